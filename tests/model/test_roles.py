"""The writer's role (understand(text).role) from the general patterns people open a
message with: a title that is also an ordinary word ('leder', 'lærer', 'supervisor')
opening a sentence, a Danish compound ending in a known title ('holdleder'), English
ways of saying what you do ('I lead a team'), and the titles that belong to no one
else's role; a greeting before the title ('hi, IT trainee here'), a unit opening the
message ('HR: ...'), a title signing off after a comma ('..., sosu assistent') and
'vi pædagoger'. The roles follow the labelling guide (a controller is a specialist)
and, where it is silent, the labelled everyday messages (social workers and job
consultants work with citizens: frontline). And the cases that must stay without a
role: someone else's title ('the director wants', 'afdelingslederen siger'), a list of
jobs ('læger, sosu, it'), a plural after 'for' ('relevant for caseworkers'), and the
verbs 'leder', 'lærer', 'plejer' and 'designer' in a sentence."""

from __future__ import annotations

import json

import pytest

from model.language import understanding as U
from model.language.understanding import understand

TITLES = json.loads(U.JOB_TITLES_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("text", "role"),
    [
        # a title that needs context, opening the message before punctuation or 'af/i/på/of/in'
        ("Leder af plejecentret. Hvordan får jeg personalet med på den nye app?", "manager"),
        ("leder: hvad skal jeg vide om gevinstrealisering", "manager"),
        ("leder på tandklinikken og vi skal have nyt journalsystem", "manager"),
        ("lærer. hvordan tester vi en ny app med eleverne", "frontline"),
        ("Lærer i udskolingen, hvordan følger jeg med i ny teknologi", "frontline"),
        ("Supervisor at the depot. How do I get the drivers to use the new app?", "manager"),
        ("Hej, leder her. Hvordan kommer vi i gang med innovation?", "manager"),
        # ... or a title alone after a question ('med? ergoterapeut' is no 'med ergoterapeut')
        ("hvem skal jeg dele det jeg ser hos borgerne med? ergoterapeut", "frontline"),
        # Danish compounds whose last part is a known title
        ("jeg er vagtleder på rådhuset og vil gerne kortlægge vores arbejdsgange", "manager"),
        ("som indkøbschef vil jeg gerne forstå gevinstrealisering", "manager"),
        ("jeg er museumsassistent og skal bruge det nye billetsystem", "frontline"),
        ("jeg er klinikhjælper og vil gerne lære om prototyper", "frontline"),
        ("som skolebibliotekssekretær hvad skal jeg kunne", "administrative"),
        ("jeg er idrætslærer og vil gerne følge med i ny teknologi", "frontline"),
        ("jeg er trafikkonsulent, hvordan laver jeg en business case", "specialist"),
        ("som kulturkonsulent hvordan inddrager jeg borgerne", "specialist"),
        # municipal jobs far from the office
        ("jeg er parkeringsvagt og vi får en ny app til kontrol", "frontline"),
        ("som svømmeinstruktør hvordan tester vi den nye booking med borgerne", "frontline"),
        ("I'm a lifeguard at the public pool, should I know about new tech?", "frontline"),
        ("helpdesk technician here, what does a business case need from me?", "it"),
        # English ways of saying what you do
        ("I lead a team of home carers and we are getting new tablets. How do I start?", "manager"),
        ("I'm a park supervisor and we want to test sensors in the playgrounds", "manager"),
        ("office admin here. how do we ask colleagues about the new booking tool?", "administrative"),
        ("Office worker in the building department. Any tips for mapping our processes?", "administrative"),
        ("As a digitalization employee I want to learn about user tests", "it"),
        ("UX person in the digital team. How many users should we test with?", "it"),
        ("IT here. How do we follow up on the promised gains of a new system?", "it"),
        ("HR here, we are redesigning how new colleagues start. Where do we begin?", "administrative"),
        ("PM on the new parking app. How do I write a business case?", "project_lead"),
        # a workplace the writer says they are in beats other people's titles named
        ("IT here. The nurses want to try the new app with residents, how?", "it"),
        ("jeg arbejder i IT, og pædagogerne siger at den nye app er svær. Hvad gør vi?", "it"),
        ("We in IT want to test the new form with citizens first", "it"),
        ("I'm on the IT team and want to learn how to write a business case", "it"),
        ("jeg arbejder i køkkenet på rådhuset og vil gerne lære om prototyper", "frontline"),
        ("as an IT project lead, how do I get the nurses to join early?", "project_lead"),
        ("I'm an ergotherapist and want to learn about welfare technology", "frontline"),
        # 'er tandplejer og ...': a sentence that leaves out 'jeg'
        ("hvem skal høre om det? er dagplejer og har talt med forældrene og kommunens it-folk", "frontline"),
        # 'jeg er deres leder': a possessive after 'jeg er' is still the writer's own job
        ("pædagogerne vil ikke bruge appen. jeg er deres leder, hvad gør jeg?", "manager"),
        ("The nurses keep skipping the new checklist. I'm their manager, what can I do?", "manager"),
        # welfare technology consultants advise on care technology: specialists
        ("velfærdsteknologisk konsulent: hvordan tester vi sensorer med beboerne?", "specialist"),
        ("As a welfare technology consultant, which trends should I follow?", "specialist"),
        # a job told by what the writer does, leads or drives
        ("I run the home care team in the east district. how do I get my people to use the new app?", "manager"),
        ("I manage the school library service and we are getting self-service kiosks", "manager"),
        ("I clean the town hall. can I suggest a new gadget?", "frontline"),
        ("jeg kører skraldebil. hvordan kan jeg komme med idéer til nye sensorer?", "frontline"),
        ("HR admin here, they want me in the group for the new onboarding system", "administrative"),
        ("BI analyst here, how do I show the gains of the new system?", "it"),
        ("vi er et lille digitaliseringsteam og skal teste en prototype med borgerne", "it"),
        ("jeg underviser i 5. klasse og vil gerne prøve nye digitale værktøjer", "frontline"),
        ("I drive one of the school buses, how can I suggest a better app for the parents?", "frontline"),
        ("jeg kører bogbussen rundt i kommunen, hvordan kan jeg give mine idéer videre?", "frontline"),
        ("how do I drive change in my team?", None),
        ("I run out of ideas when we brainstorm new services", None),
    ],
)
def test_the_writer_s_role_from_how_they_open_or_name_their_job(text, role):
    assert understand(text).role == role


@pytest.mark.parametrize(
    ("text", "role"),
    [
        # titles the everyday messages use, in Danish and English
        ("IT trainee here. How does a municipality pick a vendor?", "it"),
        ("jeg arbejder i løn, hvad af det her skal jeg kunne", "administrative"),  # 'løn' is the unit here
        ("I do first-line IT support. What from this area does my role actually need?", "it"),
        ("ergo her. borgerne kan ikke se knapperne på tabletten", "frontline"),
        ("jeg er RPA-udvikler og ledelsen vil bare have robotten i drift", "it"),
        ("innovation vs implementering, hvad skal jeg fokusere på som nyudnævnt leder", "manager"),
        ("I'm a network engineer in municipal IT. Does any of this apply to me?", "it"),
        ("How do you put 'happier staff' into a business case? IT business partner", "it"),
        ("From the IT side: how do we get the professionals to join early?", "it"),
        ("digi-medarbejder. hvordan får vi medarbejdernes oplevelse frem?", "it"),
        ("GIS-medarbejder. hvad betyder digital tvilling?", "it"),
        ("road foreman: do sensors in the roads pay off?", "frontline"),
        ("vejformand. hvordan får vi vores erfaringer med i det nye system?", "manager"),
        ("kitchen staff at a care home. how can what I see be used in the next version?", "frontline"),
        ("I'm a refuse collector and know what people mess up. how does that get in?", "frontline"),
        ("fys her, hvad er tværfagligt samarbejde?", "frontline"),
        ("hvordan regner man tilbagebetalingstid ud på en opvaskerobot? jeg er økonoma", "frontline"),
        ("what does testing early mean? I'm a road inspector", "frontline"),
        ("I'm a building inspector and want to map how a permit case flows", "administrative"),
        ("I'm just an admin. what does it mean that everyone drives change?", "administrative"),
        # ... and ways of saying what you do
        (
            "I teach at a special needs school. Someone from the digitalisation office wants to observe my class.",
            "frontline",
        ),
        ("mig rengøring. hvem skal jeg sige det til?", "frontline"),
        ("jeg gør rent på skolen. hvordan vælger kommunen firma?", "frontline"),
        ("I manage digital projects. Which trends should I follow?", "project_lead"),
        ("I'm leading the rollout of a new chatbot and staff are resistant, any tips?", "project_lead"),
        ("borgerne ringer stadig. vil have mine medarbejderes erfaringer med ind i næste indkøb. hvordan?", "manager"),
        # the labelling guide: a controller is a specialist
        ("I'm a controller and want to get better at business cases", "specialist"),
        # where the guide is silent, the labelled majority: job consultants work with citizens, a
        # socialrådgiver does casework (round 7: 13 of 21 writers' labels), UX people are specialists
        # (IT staff in an IT unit), buyers are administrative
        ("jobkonsulent: hvordan tester vi et storyboard med de ledige?", "frontline"),
        (
            "socialrådgiver her. hvordan sikrer jeg at dem der indfører selvbetjeningen forstår borgerne?",
            "administrative",
        ),
        ("UX designer: how do you run a prototype test with elderly citizens?", "specialist"),
        ("konsulent i it-afdelingen. hvordan tester vi med brugerne?", "it"),
        ("Indkøber her. Hvor meget skal fagfolkene vide om udbud?", "administrative"),
        # a unit opening the message before punctuation, or the unit the writer says they are in
        ("HR: our offboarding process has gaps. how do we map it?", "administrative"),
        ("IT support, I see lots of things that could be smarter. how do I get better at that?", "it"),
        ("citizen service desk. difference between mapping a process and writing a procedure?", "frontline"),
        ("I work at the front desk and see citizens struggle with the kiosk. Who should know?", "frontline"),
        ("jeg er selv fra it og skal interviewe sagsbehandlere. hvordan?", "it"),
        ("im new in the digitalisation team. how do we get frontline knowledge into our solutions?", "it"),
        # a greeting before the opening title; a title signing off after the question
        ("hi 👋 IT trainee. how do I interview users well?", "it"),
        ("hej, skolesekretær. er med i et projekt med lærere og it-folk. hvad er min rolle?", "administrative"),
        ("hvad gør jeg når lederne ikke lytter til vores ideer om den nye app, sosu assistent", "frontline"),
        # 'vi pædagoger', 'os nattevagter': the writer among their colleagues
        ("kan det betale sig at vi pædagoger blander os i hvordan appen sættes op?", "frontline"),
        ("ingen har spurgt os nattevagter hvordan vi arbejder. hvordan finder man ud af det?", "frontline"),
    ],
)
def test_the_writer_s_role_from_everyday_titles_and_openings(text, role):
    assert understand(text).role == role


@pytest.mark.parametrize(
    "text",
    [
        "min leder siger at vi skal bruge den nye app",  # someone else's title
        "det er noget som deres leder har bestemt",  # 'som deres leder' is no 'jeg er deres leder'
        "projektlederen vil have at vi tester med borgerne",  # definite: another person
        "holdlederen vil ikke bruge det nye system",  # ... also for a compound
        "hvordan leder jeg forandring i en travl afdeling?",  # the verb 'leder'
        "hvordan lærer man at lave en business case?",  # the verb 'lærer'
        "leder efter et godt kursus i innovation",  # a verb opening the message
        "vi tager billeder af vores skærmbilleder til vejledningen",  # '-billeder' are pictures
        "kan du forklare hvad gevinstrealisering er?",  # 'forklarer' is no 'lærer' after folding
        "what's the phone number for IT support?",  # a workplace, not the writer's
        "ergo what do we do now",  # 'ergo' needs 'jeg er', 'her' ... to be the occupational therapist
        "the meeting is at 3 pm, is that too late?",  # 'pm' is the afternoon here
        "the project manager expects us to champion the new system. what does that mean?",  # 'the X': another
        "the director wants to know if the new system paid off. how do we measure that?",
        "afdelingslederen siger vi alle skal være forandringsagenter. hvad betyder det?",  # definite
        "er det kun ledere der skal komme med nye idéer?",  # a plural: other people
        "Why does it matter to involve frontline staff early?",  # a group, not the writer
        "vi er sygeplejersker, it-folk og økonomer i samme projektgruppe. hvordan samarbejder vi?",  # a mixed group
        "tværfagligt udviklingsteam. læger, sosu, it. hvem styrer?",  # a list of jobs
        "vi taler forbi hinanden i projektgruppen, it og sosu",
        "hvordan udfordrer man 'sådan plejer vi at gøre'?",  # the verb 'plejer'
        "hvordan designer vi hele forløbet for borgeren?",  # the verb 'designer'
        "How do I stay up to date on tech trends relevant to social work?",  # the work, not the worker
        "some of us in the tax team know the old rules. the new debt system is owned by finance. should we speak up?",
    ],
)
def test_no_role_for_someone_else_s_title_or_a_verb(text):
    assert understand(text).role is None


@pytest.mark.parametrize(
    ("text", "role"),
    [
        # one describing word the vocabulary does not know, between 'I'm a' and the title
        ("I'm a psychiatric nurse. Do I need to know user research, or is that for the consultants?", "frontline"),
        ("Jeg er daglig leder i en børnehave. Kan en gevinst være andet end penge?", "manager"),
        # a group the writer is one of, counted or not
        ("vi er en flok skolesekretærer der skal være med til at indføre nyt system", "administrative"),
        ("Vi er tre konsulenter der skal finde ud af hvad hjemmeplejen synes om appen", "specialist"),
        ("vi er et par musikskolelærere der har fundet et godt program", "frontline"),
        ("jeg er blevet teamleder, hvad skal jeg kunne nu?", "manager"),
        # what the writer leads, without a title (job_titles.json 'leads')
        ("I run the kitchen at a care home. Could tech help us cut food waste?", "manager"),
        ("I lead the cleaning team at the town hall and we're getting a new app", "manager"),
        ("I manage a mixed team of teachers and pedagogues. Any tips?", "manager"),
        ("I'm leading the project on GPS trackers and have to write the requirements", "project_lead"),
        ("jeg leder et innovationsprojekt i hjemmeplejen. hvordan får jeg kollegerne med?", "project_lead"),
        ("Leading the project for a new citizen app: who should we talk to?", "project_lead"),
        # a unit the writer speaks from
        ("As IT support I keep hearing about RPA and AI agents. Which of them matter?", "it"),
        ("We're in the IT dept and procurement keeps asking us for requirements", "it"),
        ("vi fra økonomi blev inviteret til opstartsmøde om nyt system. hvorfor skal vi være med?", "administrative"),
        ("kan man kortlægge en arbejdsgang der skifter? hos os i hjemmeplejen er ingen besøg ens", "frontline"),
        # a Danish compound ending in '-medhjælper' ('med' before 'hjælper' is no verb particle here)
        ("Som køkkenmedhjælper, er der noget i den her del af hjulet der handler om mig?", "frontline"),
        ("skolekok her. forældrene kan ikke finde ud af det nye bestillingssystem", "frontline"),  # '-kok'
        # one of a group the writer names ('one of the devs'); the unit led as the describing word
        ("our dev team is building a booking system, I'm one of the devs. how do we find out what users need?", "it"),
        ("jeg er en af pædagogerne i børnehaven, hvordan får vi forældrene med?", "frontline"),
        ("The pedagogues hate the new parent app. How do I get them on board? i'm the daycare leader btw", "manager"),
        # a word that only weighs the title ('actually', 'faktisk'), a unit after 'we're' or 'nyansat i'
        ("I'm actually a nurse, not admin. can you fix that in my settings?", "frontline"),
        ("jeg er faktisk sygeplejerske, hvordan bliver jeg bedre til at se muligheder i teknologi?", "frontline"),
        ("are robot vacuum cleaners a trend or just hype? we're the cleaning team at the town hall", "frontline"),
        ("hvad dækker implementering og anskaffelse over? jeg er nyansat i digitaliseringsafdelingen", "it"),
        ("HR-administration her. kan man øve sig i proceskortlægning på en simpel ting?", "administrative"),
        # years in a unit, 'selv' between the cue and the unit, a foreman
        ("hej. jeg har været i hjemmeplejen i 12 år, og de ældre kan ikke finde ud af tabletten", "frontline"),
        ("jeg sidder selv i HR. har du ideer til hvordan AI kunne hjælpe os?", "administrative"),
        ("vi skal tegne hele arbejdsgangen op. jeg er formand på materielgården. hvorfor?", "manager"),
    ],
)
def test_the_writer_s_role_from_a_describing_word_a_group_what_they_lead_or_their_unit(text, role):
    assert understand(text).role == role


@pytest.mark.parametrize(
    "text",
    [
        "hvordan bliver jeg bedre til business cases? er der en metode som kommunerne plejer at bruge",
        "jeg leder efter et godt projekt om innovation",  # 'leder efter' looks for
        "how do I lead change in my department",  # asks how; says nothing of the writer's job
        # found in review: a verb, an adverb or a plural after 'I'm' is no describing word
        "I'm hiring nurses",
        "I'm coaching managers on AI",
        "jeg er snart leder",
        # ... and what follows 'lead/run/manage' must be the thing led, right after it
        "jeg leder ikke afdelingen, men hvordan kan jeg drive forandringen alligevel?",
        "I manage expectations in the team",
        "I run past the office every morning",
        "I'm running the school trip",
        "jeg styrer forholdet til leverandøren",
        "Managing a team is hard for anyone",
        "I'm running late for the department meeting, can we talk about trends later?",
        "det er det samme som alle lærere siger om den nye app",  # 'som alle lærere': a comparison
        "en af pædagogerne siger at appen er dårlig, hvordan får vi dem med?",  # one of them, not the writer
        "one of the nurses thinks the app is useless",
        "our IT director says we keep digitising bad processes. how do we map the steps first?",  # a unit between
        "formanden for udvalget vil have en business case",
        "I'm not really a manager but I help with the new app, how do I drive change?",  # 'not', however weighed
    ],
)
def test_no_role_from_a_relative_som_a_search_or_a_verb_in_passing(text):
    assert understand(text).role is None


def test_compound_heads_are_roles_and_listed_titles_win():
    roles = set(json.loads((U.TERMS_PATH.parent / "da.json").read_text(encoding="utf-8"))["roles"])
    assert set(TITLES["compound_heads"]["heads"].values()) <= roles
    assert understand("jeg er jobkonsulent").role == "frontline"  # listed, not '-konsulent'
    assert understand("jeg er delprojektleder").role == "project_lead"  # not '-leder'
    assert U.match_role("vagtleder") == "manager"


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("is generative AI relevant for caseworkers or just hype?", "administrative"),
        ("er lean relevant for pædagoger", "frontline"),
        ("innovation for ledere", "manager"),
    ],
)
def test_a_job_asked_about_with_for_steers_the_answer(text, role):
    """'relevant for caseworkers' asks for that job: the answer is written for it, as for 'en sagsbehandler'."""
    assert understand(text).role == role
