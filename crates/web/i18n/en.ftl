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
err-throttled = Too many failed sign-ins: wait a moment and try again.
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
surv-run = Ask every site now
surv-not-run = The network has not been asked for this case definition yet: ask every site to see the current season.
surv-run-of = Showing the run of { $when } (asked by { $who } in project { $project }): ask every site again to refresh it.
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

# site steward console (served by the site agent) and manual approval
status-awaiting_approval = awaiting approval at the site
event-task-held = held for the site steward's approval
console-brand = kakehashi · site console { $site }
console-nav-tasks = Tasks
console-nav-policy = Policy
console-nav-ledger = Privacy ledger
console-nav-released = Released
console-login-title = Steward console: { $site }
console-login-intro = Sign in as this site's data steward. This console runs on the site's own machine; the hub cannot reach it.
console-tasks-title = Incoming tasks
console-mode-manual = Manual approval: each task waits here until you approve or refuse it.
console-mode-auto = Automatic approval: every task of an admitted project is answered at once, through the disclosure gate.
console-queue = Awaiting your decision
console-queue-empty = No task is waiting for a decision.
console-recent = Latest tasks
console-col-question = Question
console-col-researcher = Researcher
console-col-received = Received
console-col-deadline = Deadline
console-col-task = Task
console-col-type = Type
console-col-decided-by = Decided by
console-col-epsilon = ε spent
console-col-questions = Questions charged
console-col-budget = Budget ε
console-col-remaining = Remaining ε
console-col-answered = Answered tasks
console-col-sent = Sent
console-kind-cohort = cohort count
console-kind-antibiogram = antibiogram
console-kind-surveillance_series = surveillance series
console-state-received = being answered
console-state-waiting = awaiting your decision
console-state-approved = approved, being answered
console-state-answered = answered
console-state-refused = refused
console-state-failed = failed
console-state-expired = expired: the deadline passed, nothing was sent
console-task-title = Task
console-see-sent = See the answer exactly as it was sent
console-decide = Your decision
console-decide-intro = Approving computes the answer and releases it through the disclosure gate as usual. Refusing sends the hub only “refused by the site's data steward”, with your comment if you write one.
console-approve = Approve and answer
console-refuse = Refuse
console-comment = Comment to the researcher (optional)
console-comment-hint = Sent to the hub with the refusal as you write it (one line, at most 500 characters). Write nothing about the data.
console-question = The question as it came from the hub
console-policy-title = Policy in force
console-policy-intro = The disclosure policy every answer of this site passes, from the site's configuration.
console-hub = Hub: { $hub }
console-ledger-title = Privacy ledger
console-ledger-intro = ε spent at this site. A repeated question costs nothing and gets the same answer.
console-ledger-projects = Per project
console-ledger-researchers = Per researcher
console-released-title = What left this site
console-released-intro = Every answer this site signed and sent to the hub, newest first.
console-sent-title = Answer as sent
console-sent-intro = The signed body exactly as it left the site, byte for byte; the hub logs the same SHA-256.
console-signature = Signature (Ed25519)
console-sent-raw = The body as sent (JSON)
console-back = Back to the tasks
console-err-credentials = User name or password is wrong.
console-err-decided = This task is no longer waiting for a decision.
console-err-expired = This task is past its deadline and has dropped out of the queue.
console-err-csrf = The form has expired. Reload the page and try again.
console-notice-approved = Approved: the site computes and sends the answer.
console-notice-refused = Refused: the hub is told that the site's data steward refused.

## Site notes (typed codes, kakehashi_federation::Note)
note-units-not-converted = Criterion { $criterion }: results in units that do not convert to the filter's unit are not counted.
note-guideline-reread = Every raw MIC and zone was re-read with { $guideline }; zones only where this guideline's disk was used.
note-main-diagnosis-as-any = The main-diagnosis rule was applied as "any diagnosis of the stay" (the site tables hold no diagnosis rank).
note-denominator-refused = No denominator for rates: { $reason }

## identity (issue 27): OpenID Connect sign-in, sessions, administration of users
nav-admin = Users
sign-out-everywhere = Sign out everywhere
login-oidc = Or sign in with your institution
login-with = Sign in with { $issuer }
error-oidc-state = This sign-in link was already used or has expired. Please start the sign-in again.
error-oidc-failed = The sign-in with your institution could not be completed. Please try again, or ask the network office.
error-oidc-no-role = Your institution confirmed who you are, but your account has no role in this network (no group that maps to researcher, site steward or admin). Ask the network office to grant you access.
error-disabled = This account is disabled. Ask the network office.
admin-users-title = Users
admin-users-intro = Every account, where it signs in, and its live sessions and API tokens. Revoking ends the sessions and tokens; disabling also refuses every sign-in until the account is enabled again. Each action is written to the audit log.
col-user = User
col-role = Role
col-source = Signs in with
col-state = State
col-last-login = Last sign-in
col-sessions = Sessions
col-tokens = API tokens
col-actions = Actions
source-local = local password
user-active = active
user-disabled = disabled
action-revoke = Revoke sessions and tokens
action-disable = Disable
action-enable = Enable
event-login = signed in
event-login-failed = sign-in failed
event-login-throttled = sign-in slowed down
event-sessions-ended = signed out everywhere
event-user-revoked = sessions and tokens revoked
event-user-disabled = account disabled
event-user-enabled = account enabled
event-token-revoked = API token revoked

# partnership office (issue 32)
nav-office = Office
office-title = Partnership office
office-intro = The MoU between NUM and JIHS, its bodies and decisions, the document library, exchanges, training and meetings, with times in Berlin and Tokyo.
office-agreements = Agreements
office-signed = signed { $date }
office-timeline = Renewal timeline
office-decision-due = Renewal decision due
office-notice-deadline = Notice deadline
office-term-end = End of term
office-phase-not_started = The term has not begun.
office-phase-running = In force: the renewal decision is due in { $days } days.
office-phase-decision_due = The renewal decision is due now: agree before the notice deadline.
office-phase-notice_passed = The notice deadline has passed.
office-phase-ended = The term has ended.
office-upcoming = Upcoming meetings
office-past = Past meetings
office-event = Event
office-berlin = Berlin
office-tokyo = Tokyo
office-location = Location
office-participants = Participants
office-actions = Actions
office-minutes = Minutes
office-in-person = in person
office-remote = remote
office-due = due { $date }
office-action-open = open
office-action-done = done
office-action-dropped = dropped
office-calendar = Calendar
office-calendar-intro = Subscribe to a calendar feed in your calendar application. The address is secret: anyone who has it sees the events.
office-feed-made = Your calendar feed:
office-feed-of = Calendar of
office-feed-mine = my meetings
office-feed-make = Make a feed address
office-bodies = Bodies
office-body = Body
office-theme = Theme
office-chairs = Chairs
office-members = Members
office-decisions = Decisions
office-date = Date
office-decision = Decision
office-vote = Vote
office-consensus = consensus
office-library = Document library
office-document = Document
office-version = Version
office-state = Status
office-translations = Translations
office-kind-protocol = protocol
office-kind-sop = SOP
office-kind-method = method
office-kind-governance = governance
office-state-draft = draft
office-state-in_review = in review
office-state-approved = approved
office-state-superseded = superseded
office-exchanges = Staff exchanges
office-person = Person
office-home = Home institution
office-host = Host institution
office-dates = Dates
office-exchange-proposed = proposed
office-exchange-planned = planned
office-exchange-ongoing = ongoing
office-exchange-completed = completed
office-exchange-cancelled = cancelled
office-training = Training
office-course = Course
office-sessions = Sessions
office-complete = Attended all
office-diff-title = version { $from } → { $to }
office-back = Back to the library
office-diff-caption = Lines removed from the older version and added in the newer
office-diff-change = Change
office-diff-line = Line
office-diff-same = unchanged
office-diff-added = added
office-diff-removed = removed
office-compare = Compare with version { $n }
office-step-submit = Submit for review
office-step-approve = Approve
office-step-return = Return to draft

## e-mail notifications
mail-renewal-due-subject = { $title }: renewal decision due { $due }
mail-renewal-due-body = The partners' decision on renewing { $title } is due on { $due } ({ $days ->
        [0] today
        [one] in one day
       *[other] in { $days } days
    }). The last day to give notice or agree on an extension is { $deadline }. The timeline: { $link }
mail-renewal-overdue-subject = { $title }: the renewal decision is overdue
mail-renewal-overdue-body = The partners' decision on renewing { $title } was due on { $due }. The last day to give notice or agree on an extension is { $deadline }. The timeline: { $link }
mail-action-due-subject = Action due { $due }: { $text }
mail-action-due-body = Your action from “{ $event }” is due on { $due } ({ $days ->
        [0] today
        [one] tomorrow
       *[other] in { $days } days
    }): { $text }. Mark it done or see the event: { $link }
mail-action-overdue-subject = Overdue since { $due }: { $text }
mail-action-overdue-body = Your action from “{ $event }” was due on { $due }: { $text }. Mark it done or dropped: { $link }
mail-event-subject = Tomorrow: { $title }
mail-event-body = { $title } starts tomorrow, { $berlin } in Berlin, { $tokyo } in Tokyo, at { $location }. Agenda and participants: { $link }
mail-digest-subject = kakehashi: { $n ->
        [one] one notification
       *[other] { $n } notifications
    }
mail-footer = kakehashi, the NUM–JIHS research network. Choose how you hear of each topic: { $link }
notify-title = E-mail notifications
notify-intro = Reminders of the MoU renewal, of your action items and of events you take part in, by e-mail: one by one, once a day as a digest, or not at all.
notify-email = E-mail address
notify-topic-renewal = MoU renewal decisions
notify-topic-action = Your action items
notify-topic-event = Events you take part in
notify-mode-immediate = One by one
notify-mode-digest = Daily digest
notify-mode-off = Off
notify-save = Save
notify-saved = Saved.
notify-recent = Recent messages
notify-none = No messages yet.
notify-state-pending = pending
notify-state-sent = sent
notify-state-skipped = not sent
notify-state-failed = failed
notify-col-created = Created
notify-col-subject = Subject
notify-col-state = State
notify-col-note = Note
nav-notifications = Notifications

## activity report and certificates
office-back-office = Back to the office
office-report = Activity report
report-title = Activity report, year { $year }
report-year-short = Year { $year }
report-span = { $from } to { $to }, as of { $asof }
report-print-hint = Print this page or save it as PDF from your browser.
report-summary = Summary
report-held-conference = Conferences held
report-held-meeting = Meetings held
report-held-visit = Delegation visits
report-upcoming = Meetings still to come this year
report-open-actions = Open actions
report-sessions-in-year = Sessions this year
report-certificates = Certificates
report-meetings = Meetings held
report-due = Due
report-action = Action
report-owner = Owner
report-overdue = overdue
report-not-yet = Studies and access requests are not in this report yet.
yes = yes
no = no
certificate-title = Certificate of attendance
certificate-confirms = This is to certify that
certificate-attended = attended all { $sessions } sessions, from { $from } to { $to }, of the course
certificate-trainers = Trainers
certificate-issued = Issued { $date }
certificate-network = kakehashi, the NUM–JIHS research network
office-certificate = Certificate

## the network's catalogue
nav-catalogue = Catalogue
catalogue-title = Biobank catalogue
catalogue-intro = Biobanks and collections of the network as their sites describe them (MIABIS Core 3), from { $sites ->
        [one] one site
       *[other] { $sites } sites
    }. Counts of donors and samples are the totals each site declares.
catalogue-q = Words
catalogue-material = Material type
catalogue-disease = Disease (ICD-10)
catalogue-country = Country
catalogue-any = any
catalogue-search = Search
catalogue-export = Download the whole catalogue as MIABIS JSON
catalogue-found = { $n ->
        [one] One collection
       *[other] { $n } collections
    }
catalogue-none = No collection matches.
catalogue-col-collection = Collection
catalogue-col-biobank = Biobank
catalogue-col-materials = Material types
catalogue-col-diseases = Diseases
catalogue-col-donors = Donors
catalogue-col-samples = Samples
catalogue-col-access = Access conditions
catalogue-col-contact = Contact
err-icd10 = “{ $detail }” is not an ICD-10 code (A98.0, a category J18.-, a block A90-A99).
err-country = “{ $detail }” is not a two-letter country code (DE, JP).
event-catalogue-received = catalogue received from the site
notify-topic-requests = Access requests you take part in
mail-request-subject = Request “{ $title }”: { $event }
mail-request-body = { $who } fired “{ $event }” on the request “{ $title }” (collection: { $collection }): { $from } → { $to }. See the request: { $link }
