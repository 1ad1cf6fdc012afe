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
