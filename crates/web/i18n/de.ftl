# kakehashi Web-Oberfläche: deutsche Texte (Project Fluent).

skip-to-content = Zum Inhalt springen
nav-label = Hauptnavigation
nav-home = Projekte
nav-network = Netzwerk
nav-feasibility = Machbarkeit
nav-amr = Resistenzen
nav-surveillance = Surveillance
nav-steward = Standortverwaltung
language = Sprache
sign-out = Abmelden
role-researcher = Forschende
role-steward = Datenverantwortliche des Standorts
role-admin = Netzwerkverwaltung

login-title = Anmelden
login-intro = Melden Sie sich mit dem Konto an, das Sie von der Netzwerkgeschäftsstelle erhalten haben. Patientendaten verlassen nie ein Krankenhaus; Sie sehen nur aggregierte Antworten.
login-username = Benutzername
login-password = Passwort
login-submit = Anmelden
notice-signed-out = Sie sind abgemeldet.

home-title = Ihre Projekte
home-intro = Jede Frage läuft in einem Projekt; ein Standort beantwortet nur Projekte, die seine Richtlinie zulässt.
home-projects = Projekte
home-no-projects = Sie gehören noch keinem Projekt an. Bitten Sie die Netzwerkgeschäftsstelle, Sie aufzunehmen.

col-project = Projekt
col-description = Beschreibung
col-sites = Standorte
col-site = Standort
col-country = Land
col-status = Status
col-last-seen = Zuletzt gesehen
col-snapshot = Datenstand
col-policy = Herausgaberichtlinie
col-criterion = Kriterium
col-code = Code
col-context = Art
col-add = Hinzufügen
col-patients = Patienten
col-disclosure = Herausgabe
col-when = Wann
col-criteria = Kriterien
col-organism = Erreger
col-antimicrobial = Antibiotikum
col-class = Klasse
col-event = Ereignis
col-detail = Einzelheiten
col-hash = Hash

country-DE = Deutschland
country-JP = Japan
status-online = online
status-offline = offline
status-answered = beantwortet
status-refused = abgelehnt
status-late = verspätet
status-pending = wartet
never = nie
no-snapshot = keine Daten geladen
none = keine
no-data = Noch keine Daten.
any = beliebig
choose = Bitte wählen …
apply = Anwenden
download-csv = Daten herunterladen (CSV)
back-home = Zurück zu Ihren Projekten

network-title = Das Netzwerk
network-intro = Die Krankenhäuser des Netzwerks: ob ihr Agent verbunden ist, wie aktuell ihre Daten sind und was sie herausgeben.
network-caption = { $n ->
    [one] Ein Standort
   *[other] { $n } Standorte
}
policy-min-count = Zahlen unter { $n } werden nicht herausgegeben
policy-rounding = Zahlen werden auf { $step } gerundet
policy-noise = Laplace-Rauschen, ε = { $epsilon } je Abfrage
policy-no-noise = Kein Rauschen
noise-off = kein Rauschen: exakte Aggregate, auf eigene Entscheidung dieses Standorts veröffentlicht
noise-off-sites = Kein Rauschen: exakte Aggregate, auf eigene Entscheidung der Standorte veröffentlicht: { $sites }
policy-budget = Privacy-Budget je Projekt: ε = { $budget }

feas-title = Machbarkeit
feas-intro = Wie viele Patienten erfüllen an jedem Standort diese Kriterien? Stellen Sie die Frage aus Kriterien zusammen oder fügen Sie eine CCDL-Abfrage ein; jeder Standort zählt seine eigenen Patienten und gibt die Zahl nach seiner Herausgaberichtlinie frei.
feas-search-legend = Kriterium hinzufügen
feas-search = Diagnosen, Laboruntersuchungen, Bioproben suchen
feas-search-hint = Deutsche und japanische Namen und Codes funktionieren gleichermaßen, z. B. „Pneumonie“, „pneumonia“, „肺炎“, „J18“.
feas-search-button = Suchen
feas-hits = { $n ->
    [one] Ein Treffer
   *[other] { $n } Treffer
}
feas-add-label = { $criterion } hinzufügen
feas-filter-hint = Optional, für das nächste hinzugefügte Kriterium: ein Wertebereich und ein Zeitraum.
feas-min-value = Wert mindestens
feas-max-value = Wert höchstens
feas-unit = Einheit (UCUM)
feas-from = Von (Datum)
feas-to = Bis (Datum)
feas-patient-legend = Patienten
feas-age-min = Alter mindestens (Jahre)
feas-age-max = Alter höchstens (Jahre)
feas-sex = Geschlecht
feas-add-patient = Patientenkriterium hinzufügen
sex-female = weiblich
sex-male = männlich
sex-other = divers
feas-ccdl = Abfrage (CCDL-JSON)
feas-ccdl-hint = Die Abfrage in der Clinical Cohort Definition Language der MII. Hinzugefügte Kriterien erscheinen hier; Sie können auch eine Abfrage aus dem Deutschen Forschungsdatenportal einfügen.
feas-run = Netzwerk fragen
feas-export = CCDL herunterladen

result-title = Antwort
result-asked = Gefragt am { $when }
result-total = Gesamt
result-chart-title = Patienten je Standort
result-chart-desc = Freigegebene Patientenzahlen je Standort; Standorte ohne freigegebene Zahl haben keinen Balken.
unit-patients = Patienten
effect-exact = exakte Zahl
effect-suppressed = weniger als { $n }: nicht freigegeben
effect-rounded = auf { $step } gerundet
effect-noise = mit Rauschen (ε = { $epsilon })
total-withheld-min-sites = Zu wenige Standorte haben geantwortet, um eine Summe zu zeigen.
total-withheld-min-total = Die Summe liegt unter dem Minimum des Netzwerks.
history-title = Ihre früheren Fragen
history-empty = Noch keine Fragen gestellt.

context-Diagnose = Diagnose
context-Laboruntersuchung = Laboruntersuchung
context-Bioprobe = Bioprobe
context-Medikamentenverabreichung = Medikation
context-Prozedur = Prozedur
context-Einwilligung = Einwilligung
context-Patient = Patient
context-Fall = Fall

amr-title = Antibiotikaresistenz
amr-intro = Antibiogramme aus Roh-MHK-Werten, an jedem Standort mit einer Leitlinie und Version neu bewertet, damit deutsche und japanische Anteile vergleichbar sind.
amr-guideline = Leitlinie
amr-map-caption = { $label } je Erreger und Antibiotikum, über die Standorte des Landes gepoolt; schraffierte Felder beruhen auf weniger als 30 Isolaten oder enthalten einen an einem Standort zurückgehaltenen Wert.
amr-compare-title = Deutschland und Japan im Vergleich
amr-mdro-title = Multiresistente Erreger

surv-title = ARE/SARI-Surveillance
surv-intro = Wöchentliche Fälle je Land mit dem epidemischen Schwellenwert und den Intensitätsstufen der Moving Epidemic Method (MEM) sowie der Anteil positiver Tests auf Influenza, RSV und SARS-CoV-2.
surv-definition = Falldefinition
level-baseline = unter dem epidemischen Schwellenwert
level-low = niedrige Intensität
level-medium = mittlere Intensität
level-high = hohe Intensität
level-very-high = sehr hohe Intensität

steward-title = Standortverwaltung: { $site }
steward-intro = Was an diesem Standort ankam und was ihn verließ, aus dem hash-verketteten Audit-Log des Standorts.
steward-chain-ok = Die Audit-Kette ist unversehrt.
steward-chain-broken = Die Audit-Kette ist gebrochen: ein Eintrag wurde geändert, entfernt oder umgestellt.
steward-policy = Herausgaberichtlinie
steward-projects = Zugelassene Projekte
steward-audit = Audit-Log
event-task-received = Auftrag erhalten
event-result-sent = Ergebnis gesendet
event-refused = Auftrag abgelehnt

err-required = Bitte füllen Sie dieses Feld aus.
err-number = „{ $detail }“ ist keine Zahl.
err-date = „{ $detail }“ ist kein Datum (JJJJ-MM-TT).
err-range-order = Dies darf nicht vor dem Beginn liegen.
err-choice = „{ $detail }“ ist keine der Auswahlmöglichkeiten.
err-credentials = Benutzername oder Passwort ist falsch.
err-throttled = Zu viele fehlgeschlagene Anmeldungen: Bitte warten Sie einen Moment und versuchen Sie es erneut.
err-ccdl = Die Abfrage ist kein gültiges CCDL: { $detail }
err-no-criteria = Fügen Sie mindestens ein Kriterium hinzu oder fügen Sie eine Abfrage ein.

error-title = Etwas ist schiefgegangen
error-not-found = Diese Seite gibt es nicht.
error-forbidden = Ihre Rolle erlaubt dies nicht.
error-unauthorized = Bitte melden Sie sich an.
error-internal = Der Hub konnte die Anfrage nicht ausführen; die Netzwerkgeschäftsstelle ist informiert.
surv-week = Kalenderwoche (ISO)
surv-cases = Fälle pro Woche
surv-epidemic-threshold = Epidemieschwelle
event-task-created = Anfrage an den Standort gesendet
event-answer-received = Antwort vom Standort erhalten
event-site-registered = Standort registriert
event-user-created = Konto angelegt
event-project-saved = Projekt gespeichert
event-token-created = API-Token erstellt
amr-map-description = Heatmap des Anteils je Erreger (Zeilen) und Antibiotikum (Spalten); jedes Feld zeigt den Anteil und die Zahl der Isolate.
amr-organisms = Erreger (Namen oder Codes, durch Komma getrennt)
amr-antimicrobials = Antibiotika (Namen, Codes oder ATC, durch Komma getrennt)
amr-specimen = Material
amr-specimen-all = alle Materialien
amr-from = Erstes Entnahmedatum
amr-to = Letztes Entnahmedatum
amr-run = Alle Standorte fragen
amr-difference = Differenz DE − JP
amr-compare-note = % resistent unter Erstisolaten (CLSI M39) mit 95-%-Wilson-Intervallen. Die Differenz hat das 95-%-Intervall nach Newcombe und wird gezeigt, wenn beide Länder mindestens 30 Isolate haben; ≈ kennzeichnet eine Differenz mit an einem Standort zurückgehaltenen Werten: sie ist die Mitte des möglichen Bereichs, und ihr Intervall deckt jeden möglichen Wert ab. Die Intervalle schließen Rauschen und Rundung der Standorte ein.
amr-not-reportable = weniger als 30 Isolate
amr-range = ein Wert wurde an einem Standort zurückgehalten: der Anteil liegt in diesem Bereich
amr-by_year = Jahr für Jahr (Trends)
amr-trend-title = { $label } nach Jahren
amr-p-trend = p (Trend)
amr-trend-note = Anteil je Jahr unter den Erstisolaten des Jahres (CLSI M39) mit 95-%-Wilson-Intervall; grau bei weniger als 30 Isolaten. p: Cochran-Armitage-Test auf einen linearen Trend des Anteils resistenter Isolate über die Jahre mit mindestens 30 Isolaten und vollständig bekannten Zahlen (– bei weniger als zwei solchen Jahren).
specimen-blood = Blut
specimen-urine = Urin
specimen-csf = Liquor
specimen-sputum = Sputum
mdro-mrsa = MRSA
mdro-vre = VRE
mdro-g3cr = resistent gegen Cephalosporine der 3. Generation
mdro-carbapenem_r = carbapenemresistent
mdro-mrgn3 = 3MRGN (KRINKO)
mdro-mrgn4 = 4MRGN (KRINKO)
mdro-mdr = MDR (Magiorakos)
mdro-xdr = XDR (Magiorakos)
mdro-pdr = PDR (Magiorakos)
status-failed = fehlgeschlagen
err-unknown-organism = „{ $detail }“ ist kein bekannter Erreger (z. B. den Artnamen angeben: Escherichia coli).
err-unknown-antimicrobial = „{ $detail }“ ist kein bekanntes Antibiotikum (Name, Code oder ATC-Code angeben).
err-amr-spec = Die Frage ist nicht gültig: { $detail }
surv-season = Saison
surv-season-current-option = aktuelle Saison
surv-season-current = { $country }: Saison { $season } (aktuelle Saison)
surv-season-shown = { $country }: Saison { $season }
surv-season-fallback = { $country }: noch keine Daten für die Saison { $asked }; gezeigt wird { $season }, die letzte Saison mit Daten
surv-run = Jetzt alle Standorte fragen
surv-not-run = Für diese Falldefinition wurde das Netzwerk noch nicht gefragt: Fragen Sie alle Standorte, um die aktuelle Saison zu sehen.
surv-run-of = Angezeigt wird die Abfrage vom { $when } (gestellt von { $who } im Projekt { $project }): Fragen Sie alle Standorte erneut, um sie zu aktualisieren.
surv-rate = Fälle pro 100.000 Patienten
surv-positivity-title = { $country } · Anteil positiver Tests · { $season }
surv-positivity-desc = Anteil positiver PCR-Tests je Woche und Erreger mit 95-%-Intervall (Wilson, um das Rauschen der Standorte erweitert) und die Zahl der Tests dahinter (gestrichelt, rechte Skala). Wochen mit weniger als 10 Tests zeigen keinen Anteil.
surv-share-positive = Anteil positiver Tests
surv-tests-week = Tests pro Woche
surv-tests = Tests
surv-interval = 95-%-Intervall
surv-release-note = Wöchentliche Zahlen verlassen jeden Standort nur mit seinem Rauschen, weder gerundet noch zurückgehalten (die Zeitreihenregel in docs/privacy.md). Raten beziehen sich auf 100.000 Patienten der antwortenden Standorte; jeder Standort gibt seine Patientenzahl über sein Herausgabe-Gate frei. Die Positivität zählt jedes PCR-Ergebnis zum Erreger am Standort in dieser Woche.
pathogen-influenza = Influenza
pathogen-rsv = RSV
pathogen-sars-cov-2 = SARS-CoV-2

# Konsole der Standort-Datenverantwortlichen (vom Standort-Agenten bereitgestellt) und manuelle Freigabe
status-awaiting_approval = wartet auf Freigabe am Standort
event-task-held = zur Freigabe durch die Datenverantwortlichen des Standorts zurückgehalten
console-brand = kakehashi · Standortkonsole { $site }
console-nav-tasks = Aufgaben
console-nav-policy = Richtlinie
console-nav-ledger = Privacy-Budget
console-nav-released = Herausgegeben
console-login-title = Konsole der Datenverantwortlichen: { $site }
console-login-intro = Melden Sie sich als Datenverantwortliche:r dieses Standorts an. Diese Konsole läuft auf dem Rechner des Standorts; der Hub kann sie nicht erreichen.
console-tasks-title = Eingehende Aufgaben
console-mode-manual = Manuelle Freigabe: Jede Aufgabe wartet hier, bis Sie sie freigeben oder ablehnen.
console-mode-auto = Automatische Freigabe: Jede Aufgabe eines zugelassenen Projekts wird sofort beantwortet, durch das Herausgabe-Gate.
console-queue = Wartet auf Ihre Entscheidung
console-queue-empty = Keine Aufgabe wartet auf eine Entscheidung.
console-recent = Letzte Aufgaben
console-col-question = Frage
console-col-researcher = Forschende:r
console-col-received = Eingegangen
console-col-deadline = Frist
console-col-task = Aufgabe
console-col-type = Art
console-col-decided-by = Entschieden von
console-col-epsilon = Verbrauchtes ε
console-col-questions = Berechnete Fragen
console-col-budget = Budget ε
console-col-remaining = Verbleibendes ε
console-col-answered = Beantwortete Aufgaben
console-col-sent = Gesendet
console-kind-cohort = Kohortenzählung
console-kind-antibiogram = Antibiogramm
console-kind-surveillance_series = Surveillance-Zeitreihe
console-state-received = wird beantwortet
console-state-waiting = wartet auf Ihre Entscheidung
console-state-approved = freigegeben, wird beantwortet
console-state-answered = beantwortet
console-state-refused = abgelehnt
console-state-failed = fehlgeschlagen
console-state-expired = abgelaufen: Frist verstrichen, nichts gesendet
console-task-title = Aufgabe
console-see-sent = Die Antwort genau so ansehen, wie sie gesendet wurde
console-decide = Ihre Entscheidung
console-decide-intro = Mit der Freigabe wird die Antwort berechnet und wie gewohnt durch das Herausgabe-Gate gegeben. Bei Ablehnung erhält der Hub nur „von den Datenverantwortlichen des Standorts abgelehnt“, mit Ihrem Kommentar, falls Sie einen schreiben.
console-approve = Freigeben und beantworten
console-refuse = Ablehnen
console-comment = Kommentar an die Forschenden (optional)
console-comment-hint = Wird mit der Ablehnung so an den Hub gesendet, wie Sie ihn schreiben (eine Zeile, höchstens 500 Zeichen). Schreiben Sie nichts über die Daten.
console-question = Die Frage, wie sie vom Hub kam
console-policy-title = Geltende Richtlinie
console-policy-intro = Die Herausgaberichtlinie, die jede Antwort dieses Standorts durchläuft, aus der Konfiguration des Standorts.
console-hub = Hub: { $hub }
console-ledger-title = Privacy-Budget
console-ledger-intro = An diesem Standort verbrauchtes ε. Eine wiederholte Frage kostet nichts und erhält dieselbe Antwort.
console-ledger-projects = Je Projekt
console-ledger-researchers = Je Forschende:r
console-released-title = Was diesen Standort verlassen hat
console-released-intro = Jede Antwort, die dieser Standort signiert und an den Hub gesendet hat, neueste zuerst.
console-sent-title = Antwort wie gesendet
console-sent-intro = Der signierte Inhalt genau so, wie er den Standort verließ, Byte für Byte; der Hub protokolliert denselben SHA-256.
console-signature = Signatur (Ed25519)
console-sent-raw = Der Inhalt wie gesendet (JSON)
console-back = Zurück zu den Aufgaben
console-err-credentials = Benutzername oder Passwort ist falsch.
console-err-decided = Diese Aufgabe wartet nicht mehr auf eine Entscheidung.
console-err-expired = Die Frist dieser Aufgabe ist verstrichen; sie ist aus der Warteschlange entfernt.
console-err-csrf = Das Formular ist abgelaufen. Laden Sie die Seite neu und versuchen Sie es noch einmal.
console-notice-approved = Freigegeben: Der Standort berechnet und sendet die Antwort.
console-notice-refused = Abgelehnt: Der Hub erfährt, dass die Datenverantwortlichen des Standorts abgelehnt haben.

## Hinweise der Standorte (typisierte Codes, kakehashi_federation::Note)
note-units-not-converted = Kriterium { $criterion }: Ergebnisse in Einheiten, die sich nicht in die Einheit des Filters umrechnen lassen, werden nicht gezählt.
note-guideline-reread = Alle Roh-MHK- und Hemmhofwerte wurden nach { $guideline } neu bewertet; Hemmhöfe nur, wo das Testplättchen dieser Richtlinie verwendet wurde.
note-main-diagnosis-as-any = Die Hauptdiagnose-Regel wurde als „irgendeine Diagnose des Aufenthalts“ angewandt (die Standorttabellen kennen keinen Diagnoserang).
note-denominator-refused = Kein Nenner für Raten: { $reason }

## identity (issue 27): OpenID Connect sign-in, sessions, administration of users
nav-admin = Benutzer
sign-out-everywhere = Überall abmelden
login-oidc = Oder mit Ihrer Einrichtung anmelden
login-with = Anmelden mit { $issuer }
error-oidc-state = Dieser Anmeldelink wurde bereits benutzt oder ist abgelaufen. Bitte starten Sie die Anmeldung neu.
error-oidc-failed = Die Anmeldung über Ihre Einrichtung konnte nicht abgeschlossen werden. Bitte versuchen Sie es erneut oder wenden Sie sich an die Netzwerkgeschäftsstelle.
error-oidc-no-role = Ihre Einrichtung hat bestätigt, wer Sie sind, aber Ihr Konto hat in diesem Netzwerk keine Rolle (keine Gruppe, die Forschende, Standortverwaltung oder Administration zugeordnet ist). Bitten Sie die Netzwerkgeschäftsstelle um Zugang.
error-disabled = Dieses Konto ist gesperrt. Wenden Sie sich an die Netzwerkgeschäftsstelle.
admin-users-title = Benutzer
admin-users-intro = Alle Konten, wo sie sich anmelden, und ihre aktiven Sitzungen und API-Token. Widerrufen beendet Sitzungen und Token; Sperren verweigert zusätzlich jede Anmeldung, bis das Konto wieder freigegeben wird. Jede Aktion wird im Audit-Log festgehalten.
col-user = Benutzer
col-role = Rolle
col-source = Anmeldung über
col-state = Zustand
col-last-login = Letzte Anmeldung
col-sessions = Sitzungen
col-tokens = API-Token
col-actions = Aktionen
source-local = lokales Passwort
user-active = aktiv
user-disabled = gesperrt
action-revoke = Sitzungen und Token widerrufen
action-disable = Sperren
action-enable = Freigeben
event-login = angemeldet
event-login-failed = Anmeldung fehlgeschlagen
event-login-throttled = Anmeldung verlangsamt
event-sessions-ended = überall abgemeldet
event-user-revoked = Sitzungen und Token widerrufen
event-user-disabled = Konto gesperrt
event-user-enabled = Konto freigegeben
event-token-revoked = API-Token widerrufen

# partnership office (issue 32)
nav-office = Büro
office-title = Partnerschaftsbüro
office-intro = Das MoU zwischen NUM und JIHS, seine Gremien und Beschlüsse, die Dokumentenbibliothek, Austausch, Schulungen und Treffen, mit Zeiten in Berlin und Tokio.
office-agreements = Vereinbarungen
office-signed = unterzeichnet am { $date }
office-timeline = Zeitplan der Verlängerung
office-decision-due = Entscheidung über die Verlängerung fällig
office-notice-deadline = Kündigungsfrist
office-term-end = Ende der Laufzeit
office-phase-not_started = Die Laufzeit hat noch nicht begonnen.
office-phase-running = In Kraft: die Entscheidung über die Verlängerung ist in { $days } Tagen fällig.
office-phase-decision_due = Die Entscheidung über die Verlängerung ist jetzt fällig: Einigung vor Ablauf der Kündigungsfrist.
office-phase-notice_passed = Die Kündigungsfrist ist verstrichen.
office-phase-ended = Die Laufzeit ist beendet.
office-upcoming = Kommende Treffen
office-past = Vergangene Treffen
office-event = Termin
office-berlin = Berlin
office-tokyo = Tokio
office-location = Ort
office-participants = Teilnehmende
office-actions = Aufgaben
office-minutes = Protokoll
office-in-person = vor Ort
office-remote = online
office-due = fällig { $date }
office-action-open = offen
office-action-done = erledigt
office-action-dropped = entfallen
office-calendar = Kalender
office-calendar-intro = Abonnieren Sie einen Kalender-Feed in Ihrer Kalenderanwendung. Die Adresse ist geheim: Wer sie kennt, sieht die Termine.
office-feed-made = Ihr Kalender-Feed:
office-feed-of = Kalender von
office-feed-mine = meine Treffen
office-feed-make = Feed-Adresse erzeugen
office-bodies = Gremien
office-body = Gremium
office-theme = Thema
office-chairs = Vorsitz
office-members = Mitglieder
office-decisions = Beschlüsse
office-date = Datum
office-decision = Beschluss
office-vote = Abstimmung
office-consensus = im Konsens
office-library = Dokumentenbibliothek
office-document = Dokument
office-version = Version
office-state = Stand
office-translations = Übersetzungen
office-kind-protocol = Protokoll
office-kind-sop = SOP
office-kind-method = Methode
office-kind-governance = Governance
office-state-draft = Entwurf
office-state-in_review = in Prüfung
office-state-approved = freigegeben
office-state-superseded = ersetzt
office-exchanges = Personalaustausch
office-person = Person
office-home = Heimatinstitution
office-host = Gastinstitution
office-dates = Zeitraum
office-exchange-proposed = vorgeschlagen
office-exchange-planned = geplant
office-exchange-ongoing = laufend
office-exchange-completed = abgeschlossen
office-exchange-cancelled = abgesagt
office-training = Schulungen
office-course = Kurs
office-sessions = Termine
office-complete = Vollständig teilgenommen
office-diff-title = Version { $from } → { $to }
office-back = Zurück zur Bibliothek
office-diff-caption = Zeilen, die aus der älteren Version entfernt und in der neueren hinzugefügt wurden
office-diff-change = Änderung
office-diff-line = Zeile
office-diff-same = unverändert
office-diff-added = hinzugefügt
office-diff-removed = entfernt
office-compare = Mit Version { $n } vergleichen
office-step-submit = Zur Prüfung einreichen
office-step-approve = Freigeben
office-step-return = Zurück in den Entwurf

## E-Mail-Benachrichtigungen
mail-renewal-due-subject = { $title }: Entscheidung über die Verlängerung fällig am { $due }
mail-renewal-due-body = Die Entscheidung der Partner über die Verlängerung von { $title } ist am { $due } fällig ({ $days ->
        [0] heute
        [one] in einem Tag
       *[other] in { $days } Tagen
    }). Der letzte Tag für eine Kündigung oder die Einigung auf eine Verlängerung ist der { $deadline }. Der Zeitplan: { $link }
mail-renewal-overdue-subject = { $title }: die Entscheidung über die Verlängerung ist überfällig
mail-renewal-overdue-body = Die Entscheidung der Partner über die Verlängerung von { $title } war am { $due } fällig. Der letzte Tag für eine Kündigung oder die Einigung auf eine Verlängerung ist der { $deadline }. Der Zeitplan: { $link }
mail-action-due-subject = Aufgabe fällig am { $due }: { $text }
mail-action-due-body = Ihre Aufgabe aus „{ $event }“ ist am { $due } fällig ({ $days ->
        [0] heute
        [one] morgen
       *[other] in { $days } Tagen
    }): { $text }. Als erledigt markieren oder die Veranstaltung ansehen: { $link }
mail-action-overdue-subject = Überfällig seit { $due }: { $text }
mail-action-overdue-body = Ihre Aufgabe aus „{ $event }“ war am { $due } fällig: { $text }. Als erledigt oder entfallen markieren: { $link }
mail-event-subject = Morgen: { $title }
mail-event-body = { $title } beginnt morgen, { $berlin } in Berlin, { $tokyo } in Tokio, Ort: { $location }. Tagesordnung und Teilnehmende: { $link }
mail-digest-subject = kakehashi: { $n ->
        [one] eine Benachrichtigung
       *[other] { $n } Benachrichtigungen
    }
mail-footer = kakehashi, das Forschungsnetz von NUM und JIHS. Wählen Sie, wie Sie von jedem Thema hören: { $link }
notify-title = E-Mail-Benachrichtigungen
notify-intro = Erinnerungen an die Verlängerung des MoU, an Ihre Aufgaben und an Veranstaltungen, an denen Sie teilnehmen, per E-Mail: einzeln, einmal täglich als Zusammenfassung oder gar nicht.
notify-email = E-Mail-Adresse
notify-topic-renewal = Entscheidungen über die Verlängerung des MoU
notify-topic-action = Ihre Aufgaben
notify-topic-event = Veranstaltungen, an denen Sie teilnehmen
notify-mode-immediate = Einzeln
notify-mode-digest = Tägliche Zusammenfassung
notify-mode-off = Aus
notify-save = Speichern
notify-saved = Gespeichert.
notify-recent = Letzte Nachrichten
notify-none = Noch keine Nachrichten.
notify-state-pending = ausstehend
notify-state-sent = gesendet
notify-state-skipped = nicht gesendet
notify-state-failed = fehlgeschlagen
notify-col-created = Erstellt
notify-col-subject = Betreff
notify-col-state = Status
notify-col-note = Hinweis
nav-notifications = Benachrichtigungen

## Tätigkeitsbericht und Teilnahmebescheinigungen
office-back-office = Zurück zum Büro
office-report = Tätigkeitsbericht
report-title = Tätigkeitsbericht, Jahr { $year }
report-year-short = Jahr { $year }
report-span = { $from } bis { $to }, Stand { $asof }
report-print-hint = Drucken Sie diese Seite oder speichern Sie sie im Browser als PDF.
report-summary = Übersicht
report-held-conference = Konferenzen
report-held-meeting = Sitzungen
report-held-visit = Delegationsbesuche
report-upcoming = Noch ausstehende Sitzungen in diesem Jahr
report-open-actions = Offene Aufgaben
report-sessions-in-year = Termine in diesem Jahr
report-certificates = Bescheinigungen
report-meetings = Abgehaltene Sitzungen
report-due = Fällig
report-action = Aufgabe
report-owner = Verantwortlich
report-overdue = überfällig
report-not-yet = Studien und Zugangsanträge sind noch nicht Teil dieses Berichts.
yes = ja
no = nein
certificate-title = Teilnahmebescheinigung
certificate-confirms = Hiermit wird bescheinigt, dass
certificate-attended = an allen { $sessions } Terminen vom { $from } bis { $to } teilgenommen hat, im Kurs
certificate-trainers = Lehrende
certificate-issued = Ausgestellt am { $date }
certificate-network = kakehashi, das Forschungsnetz von NUM und JIHS
office-certificate = Bescheinigung

## the network's catalogue
nav-catalogue = Katalog
catalogue-title = Biobank-Katalog
catalogue-intro = Biobanken und Sammlungen des Netzes, wie ihre Standorte sie beschreiben (MIABIS Core 3), von { $sites ->
        [one] einem Standort
       *[other] { $sites } Standorten
    }. Spender- und Probenzahlen sind die Summen, die jeder Standort angibt.
catalogue-q = Suchbegriffe
catalogue-material = Materialart
catalogue-disease = Erkrankung (ICD-10)
catalogue-country = Land
catalogue-any = alle
catalogue-search = Suchen
catalogue-export = Den ganzen Katalog als MIABIS-JSON herunterladen
catalogue-found = { $n ->
        [one] Eine Sammlung
       *[other] { $n } Sammlungen
    }
catalogue-none = Keine Sammlung passt.
catalogue-col-collection = Sammlung
catalogue-col-biobank = Biobank
catalogue-col-materials = Materialarten
catalogue-col-diseases = Erkrankungen
catalogue-col-donors = Spender
catalogue-col-samples = Proben
catalogue-col-access = Zugangsbedingungen
catalogue-col-contact = Kontakt
err-icd10 = „{ $detail }“ ist kein ICD-10-Kode (A98.0, eine Kategorie J18.-, ein Block A90-A99).
err-country = „{ $detail }“ ist kein zweibuchstabiger Ländercode (DE, JP).
event-catalogue-received = Katalog vom Standort erhalten
notify-topic-requests = Zugangsanträge, an denen Sie beteiligt sind
mail-request-subject = Antrag „{ $title }“: { $event }
mail-request-body = { $who } hat „{ $event }“ im Antrag „{ $title }“ ausgelöst (Sammlung: { $collection }): { $from } → { $to }. Zum Antrag: { $link }
