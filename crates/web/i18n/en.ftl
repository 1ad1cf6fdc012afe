# kakehashi web UI: English strings (Project Fluent). Every key here must exist in de.ftl and ja.ftl.

skip-to-content = Skip to content
nav-label = Main navigation
nav-home = Projects
nav-network = Network
nav-feasibility = Feasibility
nav-amr = Resistance
nav-surveillance = Surveillance
nav-steward = Site steward
language = Language
sign-out = Sign out
role-researcher = researcher
role-steward = site steward
role-admin = network admin

login-title = Sign in
login-intro = Sign in with the account the network office gave you. Patient-level data never leaves a hospital; you see aggregate answers only.
login-username = User name
login-password = Password
login-submit = Sign in
notice-signed-out = You are signed out.

home-title = Your projects
home-intro = Each question runs within a project; a site answers only projects its policy admits.
home-projects = Projects
home-no-projects = You belong to no project yet. Ask the network office to add you.

col-project = Project
col-description = Description
col-sites = Sites
col-site = Site
col-country = Country
col-status = Status
col-last-seen = Last seen
col-snapshot = Data as of
col-policy = Disclosure policy
col-criterion = Criterion
col-code = Code
col-context = Kind
col-add = Add
col-patients = Patients
col-disclosure = Disclosure
col-when = When
col-criteria = Criteria
col-organism = Organism
col-antimicrobial = Antimicrobial
col-class = Class
col-event = Event
col-detail = Detail
col-hash = Hash

country-DE = Germany
country-JP = Japan
status-online = online
status-offline = offline
status-answered = answered
status-refused = refused
status-late = late
status-pending = waiting
never = never
no-snapshot = no data loaded
none = none
no-data = No data yet.
any = any
choose = Choose…
apply = Apply
download-csv = Download the data (CSV)
back-home = Back to your projects

network-title = The network
network-intro = The hospitals of the network, whether their agent is connected, how current their data are, and what each releases.
network-caption = { $n ->
    [one] One site
   *[other] { $n } sites
}
policy-min-count = Counts below { $n } are not released
policy-rounding = Counts are rounded to { $step }
policy-noise = Laplace noise, ε = { $epsilon } per query
policy-no-noise = No noise added
noise-off = no noise: exact aggregates, published by this site's own decision
noise-off-sites = No noise: exact aggregates, published by the sites' own decision: { $sites }
policy-budget = Privacy budget per project: ε = { $budget }

feas-title = Feasibility
feas-intro = How many patients at each site meet these criteria? Build the question from criteria or paste a CCDL query; each site counts its own patients and releases the count through its disclosure policy.
feas-search-legend = Add a criterion
feas-search = Search diagnoses, laboratory tests, specimens
feas-search-hint = German and Japanese names and codes work alike, e.g. “pneumonia”, “Pneumonie”, “肺炎”, “J18”.
feas-search-button = Search
feas-hits = { $n ->
    [one] One match
   *[other] { $n } matches
}
feas-add-label = Add { $criterion }
feas-filter-hint = Optional, for the criterion you add next: a value range and a time window.
feas-min-value = Value at least
feas-max-value = Value at most
feas-unit = Unit (UCUM)
feas-from = From (date)
feas-to = Until (date)
feas-patient-legend = Patients
feas-age-min = Age at least (years)
feas-age-max = Age at most (years)
feas-sex = Sex
feas-add-patient = Add patient criterion
sex-female = female
sex-male = male
sex-other = other
feas-ccdl = Query (CCDL JSON)
feas-ccdl-hint = The query in the MII Clinical Cohort Definition Language. Criteria you add appear here; you can also paste a query from the German feasibility portal.
feas-run = Ask the network
feas-export = Download CCDL

result-title = Answer
result-asked = Asked { $when }
result-total = Total
result-chart-title = Patients per site
result-chart-desc = Released patient counts per site; sites without a released count have no bar.
unit-patients = patients
effect-exact = exact count
effect-suppressed = fewer than { $n }: not released
effect-rounded = rounded to { $step }
effect-noise = noise added (ε = { $epsilon })
total-withheld-min-sites = Too few sites answered to show a total.
total-withheld-min-total = The total is below the network's minimum.
history-title = Your earlier questions
history-empty = No questions asked yet.

context-Diagnose = Diagnosis
context-Laboruntersuchung = Laboratory test
context-Bioprobe = Specimen
context-Medikamentenverabreichung = Medication
context-Prozedur = Procedure
context-Einwilligung = Consent
context-Patient = Patient
context-Fall = Encounter

amr-title = Antimicrobial resistance
amr-intro = Antibiograms from raw MIC values, read again at every site with one guideline and version, so German and Japanese shares compare.
amr-guideline = Guideline
amr-map-caption = { $label } per organism and antimicrobial, pooled over the country's sites; hatched cells have fewer than 30 isolates or a count withheld at a site.
amr-compare-title = Germany and Japan compared
amr-mdro-title = Multidrug-resistant organisms

surv-title = ARI/SARI surveillance
surv-intro = Weekly cases per country with the epidemic threshold and intensity levels of the Moving Epidemic Method (MEM), and the share of tests positive for influenza, RSV and SARS-CoV-2.
surv-definition = Case definition
level-baseline = below the epidemic threshold
level-low = low intensity
level-medium = medium intensity
level-high = high intensity
level-very-high = very high intensity

steward-title = Site steward: { $site }
steward-intro = What came in to this site and what went out, from the site's hash-chained audit log.
steward-chain-ok = The audit chain is intact.
steward-chain-broken = The audit chain is broken: an entry was changed, removed or reordered.
steward-policy = Disclosure policy
steward-projects = Admitted projects
steward-audit = Audit log
event-task-received = task received
event-result-sent = result sent
event-refused = task refused

err-required = Please fill in this field.
err-number = “{ $detail }” is not a number.
err-date = “{ $detail }” is not a date (YYYY-MM-DD).
err-range-order = This must not be before the start.
err-choice = “{ $detail }” is not one of the choices.
err-credentials = User name or password is wrong.
err-ccdl = The query is not valid CCDL: { $detail }
err-no-criteria = Add at least one criterion, or paste a query.

error-title = Something went wrong
error-not-found = This page does not exist.
error-forbidden = Your role does not allow this.
error-unauthorized = Please sign in.
error-internal = The hub could not complete the request; the network office has been told.
surv-week = ISO week
surv-cases = Cases per week
surv-epidemic-threshold = epidemic threshold
event-task-created = task sent to the site
event-answer-received = answer received from the site
event-site-registered = site registered
event-user-created = account created
event-project-saved = project saved
event-token-created = API token created
amr-map-description = Heat-map of the share per organism (rows) and antimicrobial (columns); each cell shows the share and the number of isolates.
amr-organisms = Organisms (names or codes, comma-separated)
amr-antimicrobials = Antimicrobials (names, codes or ATC, comma-separated)
amr-specimen = Specimen
amr-specimen-all = all specimens
amr-from = First specimen date
amr-to = Last specimen date
amr-run = Ask every site
amr-difference = Difference DE − JP
amr-compare-note = % resistant among first isolates (CLSI M39), with 95 % Wilson intervals. The difference has Newcombe's 95 % interval and is shown where both countries have at least 30 isolates; ≈ marks a difference that includes counts withheld at a site: it is the middle of the possible range and its interval covers every possible value. Intervals include the sites' noise and rounding.
amr-not-reportable = fewer than 30 isolates
amr-range = a count was withheld at a site: the share lies in this range
amr-by_year = Year by year (trends)
amr-trend-title = { $label } year by year
amr-p-trend = p for trend
amr-trend-note = Each year's share among that year's first isolates (CLSI M39), with its 95 % Wilson interval; greyed with fewer than 30 isolates. p: Cochran–Armitage test for a linear trend in % resistant over the years with at least 30 isolates and every count known (– with fewer than two such years).
specimen-blood = blood
specimen-urine = urine
specimen-csf = cerebrospinal fluid
specimen-sputum = sputum
mdro-mrsa = MRSA
mdro-vre = VRE
mdro-g3cr = 3rd-generation cephalosporin resistant
mdro-carbapenem_r = carbapenem resistant
mdro-mrgn3 = 3MRGN (KRINKO)
mdro-mrgn4 = 4MRGN (KRINKO)
mdro-mdr = MDR (Magiorakos)
mdro-xdr = XDR (Magiorakos)
mdro-pdr = PDR (Magiorakos)
status-failed = failed
err-unknown-organism = “{ $detail }” is not an organism this network knows (try the species name, e.g. Escherichia coli).
err-unknown-antimicrobial = “{ $detail }” is not an antimicrobial this network knows (try the name, code or ATC code).
err-amr-spec = The question is not valid: { $detail }
surv-season = Season
surv-season-current-option = current season
surv-season-current = { $country }: season { $season } (current season)
surv-season-shown = { $country }: season { $season }
surv-season-fallback = { $country }: no data yet for season { $asked }; showing { $season }, the latest season with data
surv-rate = Cases per 100,000 patients
surv-positivity-title = { $country } · share of tests positive · { $season }
surv-positivity-desc = Share of PCR tests positive per week and pathogen with its 95 % interval (Wilson, widened for the sites' noise), and the number of tests behind it (dashed, right scale). Weeks with fewer than 10 tests show no share.
surv-share-positive = Share of tests positive
surv-tests-week = Tests per week
surv-tests = tests
surv-interval = 95 % interval
surv-release-note = Weekly counts leave each site with its noise only, neither rounded nor withheld (the series rule in docs/privacy.md). Rates are per 100,000 patients of the answering sites; each site releases its patient count through its disclosure gate. Positivity counts every PCR result for the pathogen at the site in that week.
pathogen-influenza = Influenza
pathogen-rsv = RSV
pathogen-sars-cov-2 = SARS-CoV-2
