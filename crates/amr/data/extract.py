#!/usr/bin/env python3
"""Derives the shipped AMR reference tables from the AMR R package 3.0.0 export.

Usage: python3 crates/amr/data/extract.py ../shared/data/amr data/amr

Kept: human clinical breakpoints of every year (EUCAST and CLSI, MIC and disk); organisms that
are common human pathogens (AMR prevalence 1 or 1.15), every organism a breakpoint, species
group or lab code names, and the genus/family/order rows above them, with a derived Gram
stain; synonyms of kept organisms (pointing at the current code); lab codes; species groups;
antimicrobials; intrinsic resistance (EUCAST Expected Resistant Phenotypes) of kept organisms,
one line per organism. EUCAST and CLSI breakpoints go to separate files, so that a site can
remove the CLSI rows (their redistribution terms are not stated; data/amr/SOURCES.md). The
output is GPL-2 like its source and is read at run time, never compiled into the binary.
"""
import csv, sys, os

src, out = sys.argv[1], sys.argv[2]
def read(name):
    with open(os.path.join(src, name), newline='') as f:
        return list(csv.DictReader(f, delimiter='\t'))
def write(name, header, rows):
    with open(os.path.join(out, name), 'w', newline='') as f:
        w = csv.writer(f, delimiter='\t', lineterminator='\n', quoting=csv.QUOTE_NONE, escapechar='\\')
        w.writerow(header)
        for r in rows:
            w.writerow(r)

bps = [r for r in read('clinical_breakpoints.tsv') if r['type'] == 'human']
for body in ('EUCAST', 'CLSI'):
    write(f'breakpoints-{body.lower()}.tsv',
          ['guideline', 'method', 'site', 'mo', 'rank_index', 'ab', 'ref_tbl', 'disk_dose', 'breakpoint_S', 'breakpoint_R', 'uti', 'is_SDD'],
          [[r['guideline'], r['method'], r['site'], r['mo'], r['rank_index'], r['ab'], r['ref_tbl'], r['disk_dose'],
            r['breakpoint_S'], r['breakpoint_R'], r['uti'], r['is_SDD']] for r in bps if r['guideline'].startswith(body + ' ')])

mos = read('microorganisms.tsv')
by_mo = {r['mo']: r for r in mos}
by_lpsn = {r['lpsn']: r['mo'] for r in mos if r['lpsn'] and r['status'] == 'accepted'}
by_mb = {r['mycobank']: r['mo'] for r in mos if r['mycobank'] and r['status'] == 'accepted'}
groups = read('microorganisms.groups.tsv')
codes = read('microorganisms.codes.tsv')
keep = {r['mo'] for r in mos if r['prevalence'] in ('1', '1.15') and r['status'] in ('accepted', 'unknown')}
keep |= {r['mo'] for r in bps} | {g['mo'] for g in groups} | {g['mo_group'] for g in groups}
keep |= {c['mo'] for c in codes}
keep &= set(by_mo)
# the taxa above each kept organism, so rank fall-back can walk up
names = {}
for r in mos:
    if r['status'] == 'accepted':
        names.setdefault((r['rank'], r['fullname']), r['mo'])
for m in list(keep):
    r = by_mo[m]
    for rank in ('genus', 'family', 'order'):
        up = names.get((rank, r[rank]))
        if up:
            keep.add(up)
# synonyms of kept organisms
def current(r):
    for col, idx in (('lpsn_renamed_to', by_lpsn), ('mycobank_renamed_to', by_mb)):
        if r[col] and r[col] in idx:
            return idx[r[col]]
    return ''
syn = []
for r in mos:
    if r['status'] == 'synonym' and r['prevalence'] in ('1', '1.15'):
        c = current(r)
        if c in keep:
            syn.append((r, c))

POS_PHYLA = {'Actinobacteria', 'Actinomycetota', 'Chloroflexi', 'Chloroflexota', 'Firmicutes', 'Bacillota', 'Tenericutes', 'Mycoplasmatota'}
def gram(r):
    if r['mo'] in ('B_GRAMP', 'B_ANAER-POS'):
        return 'positive'
    if r['mo'] in ('B_GRAMN', 'B_ANAER-NEG'):
        return 'negative'
    if r['kingdom'] != 'Bacteria' or r['phylum'].startswith('('):
        return ''
    if r['phylum'] in POS_PHYLA and r['class'] != 'Negativicutes':
        return 'positive'
    return 'negative'
cols = ['mo', 'fullname', 'status', 'current', 'kingdom', 'phylum', 'class', 'order', 'family', 'genus', 'species', 'subspecies', 'rank', 'gram', 'oxygen_tolerance', 'prevalence', 'snomed']
rows = []
for m in sorted(keep):
    r = by_mo[m]
    rows.append([r['mo'], r['fullname'], r['status'], ''] + [r[c] for c in cols[4:13]] + [gram(r), r['oxygen_tolerance'], r['prevalence'], r['snomed']])
for r, c in sorted(syn, key=lambda x: x[0]['fullname']):
    rows.append([r['mo'], r['fullname'], 'synonym', c] + [r[k] for k in cols[4:13]] + [gram(r), r['oxygen_tolerance'], r['prevalence'], r['snomed']])
write('organisms.tsv', cols, rows)
write('organism_codes.tsv', ['code', 'mo'], [[c['code'], c['mo']] for c in codes if c['mo'] in keep])
write('organism_groups.tsv', ['mo_group', 'mo', 'mo_group_name'], [[g['mo_group'], g['mo'], g['mo_group_name']] for g in groups])

abs_ = read('antimicrobials.tsv')
write('antimicrobials.tsv', ['ab', 'name', 'group', 'atc', 'atc_group1', 'atc_group2', 'abbreviations', 'synonyms', 'loinc'],
      [[a['ab'], a['name'], a['group'], a['atc'], a['atc_group1'], a['atc_group2'], a['abbreviations'], a['synonyms'], a['loinc']] for a in abs_])

ir = {}
for r in read('intrinsic_resistant.tsv'):
    if r['mo'] in keep:
        ir.setdefault(r['mo'], []).append(r['ab'])
write('intrinsic_resistance.tsv', ['mo', 'ab'], [[m, '|'.join(sorted(v))] for m, v in sorted(ir.items())])
