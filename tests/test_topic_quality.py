"""The shipped topic packs reach their precision and recall floors on the labelled case files."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest

from watcher.matcher import Matcher, load_topics
from watcher.models import Item

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
TOPICS = ("borders", "migration", "policing", "smuggling")


class CaseSet(NamedTuple):
    """One labelled case file under tests/data, the floors the shipped packs must keep on it and why those floors."""

    file: str
    floors: dict[str, tuple[float, float]]  # topic: (precision floor, recall floor)
    why: str

    @property
    def name(self) -> str:
        """The part of the file name that names the set (topic-cases.blind6.toml: blind6), used in the test ids."""
        return self.file.split(".")[1]


# What each round learnt from the four sets it was measured on, after their one measurement (the notes below).
ROUND_27_30 = (
    "the packs were tuned on the four sets (classes: trafficking through its forms (forced begging and"
    " pickpocketing, scam compounds, debt bondage, wages and papers taken, sham addresses), facilitation by its price"
    " or its organiser, long-stay national visas kept out of borders, border surveillance and EES, ETIAS and API"
    " described, ECRIS and ECRIS-TCN, Interpol's stolen-document checks and red notices kept out of policing) and"
    " the model was trained on them"
)
ROUND_31_34 = (
    "they chose thresholds with blind23 to blind26 (smuggling relevance 0.7; irrelevant_below 0.05 for borders, 0.1"
    " for migration), the packs were tuned on them (classes: Frontex by its seat, drones and cameras by fences and"
    " patrols, SIRENE bureaux, the border-free area, unannounced evaluation visits, joint patrolling; national visas,"
    " Dutch protection requests, the Polish UKR status, looted art; the European arrest warrant's other names and the"
    " gangs it targets, criminal records registers, COSI by name, Interpol's fugitives; begging and pickpocketing"
    " under threat, children forced to deal drugs, people hidden among boxes, borrowed passports, couples who never"
    " met) and the model was trained on them"
)
ROUND_35_38 = (
    "the packs were tuned on them (classes: joint patrols for fans and holiday traffic kept out, the return border"
    " procedure and European integrated border management by name, Interpol's stolen-document list, the API"
    " regulation and refusal of leave to land; hikers' rescues kept out, the EUAA and the Opportunity Card in each"
    " language, removal detention and expulsion; carers' pay and papers kept, debts worked off, women forced to see"
    " clients, flat brothels, timber and puppies kept out of smuggling) and the model was trained on them"
)
ROUND_39_42 = (
    "they tried the model's learning rate with blind35 to blind38 (kept at 0.2), the border packs were tuned on them"
    " (wildlife, hikers, pollution and fisheries next to a border or its guards; 'visto como') and the model was"
    " trained on them"
)
ROUND_43_46 = (
    "they chose migration's irrelevant_below again with blind23 to blind26 (0.02, was 0.1), the migration pack was"
    " tuned on them (humanitarian corridors by their organisers, Grupa Granica; sailors rescued, foreign investors"
    " returning, timber taken out, payment systems migrated kept out) and the model was trained on them"
)
ROUND_47_50 = (
    "they chose smuggling's learning rate with blind35 to blind42 and blind23 to blind26 (0.3; the other topics stay"
    " at 0.2), the packs were tuned on them (classes: crossings offered online and taken down by Europol's referral"
    " unit, the organiser of the journey, people made or forced to work in Dutch and Polish wordings, trade in"
    " women, fictitious invitations, borrowed passports at a border check, passports handed over, servitude in a"
    " household, debts worked off in brothels, a fee to hide people in lorries, drivers in Italian and French but"
    " not foreign drivers speeding; asylum claims waiting for the Home Office, joint removal flights, the returns"
    " legislation, care worker visas, the right to apply suspended, people turned back to the border line; the API"
    " regulation in German, readmission by the Polish Border Guard, salmon nets; IXIM and the information exchange"
    " directive by their Spanish, French and German names, airline booking data, Interpol at a passport check kept"
    " out of policing) and the model was trained on them"
)
ROUND_51_54 = (
    "the packs were tuned on them (classes: travellers refused entry for their papers, their means or a database entry"
    " kept out of migration, national D visas, closed family units and the EUAA in Dutch, storks and court files"
    " migrated kept out; payments of families and hawala for the journeys, the offence described as helping people"
    " enter or stay, crossings organised with their suspects, wages confiscated, forced marriage by a clan, sham"
    " weddings in Spanish, false job offers in German, art smuggled and contraband in a lorry kept out; IXIM by"
    " name, passenger information units in Spanish, a hit during a passport check kept out of policing, hikers"
    " helped by the Polish Border Guard kept out), the border systems' and the screening regulation's names and"
    " the numbers of the acts against smuggling were made never_dropped, and the model was trained on them"
)
ROUND_55_58 = (
    "the packs were tuned on them (classes: passports and documents checked at a crossing in plain words, the travel"
    " authorisation described as an online form before a trip to European countries, people handed back to the"
    " Slovenian authorities, immediate returns at Ceuta, cameras and sensors of the Polish Border Guard, the zone"
    " d'attente of an airport; the annual solidarity pool, unaccompanied youths in Portuguese, the asylum and"
    " border acts by their numbers (never_dropped too); joint patrols of two nations' officers in the plural;"
    " SIS and Interpol hits at an entry or boarding check kept out of policing; a club's ID checks at a stadium,"
    " mushroom pickers found by border guards, cruise passengers in Venice and business relocation kept out) and"
    " the model was trained on them"
)
ROUND_59_62 = (
    "the border pack was tuned on them (classes: the short-stay visa by its names in each language, made"
    " never_dropped with the return border procedure's and the screening regulation's other names; Interpol's"
    " database queried at the passport check; people taken back by force after crossing a border; an oil slick,"
    " and border checks on plants, kept out) and the model was trained on them"
)


# Why two policing precision floors went down in the round of blind51 to blind54.
IXIM_LOWERED = (
    " Its policing precision floor went down from {was} in the round of blind51 to blind54: IXIM by its name counts"
    " for policing now (28 of the 31 IXIM items of the case sets are labelled so), and this set labels one IXIM note"
    " borders alone."
)

# The rounds above, by the first set of the four they were measured on.
ROUNDS = {
    27: ROUND_27_30,
    31: ROUND_31_34,
    35: ROUND_35_38,
    39: ROUND_39_42,
    43: ROUND_43_46,
    47: ROUND_47_50,
    51: ROUND_51_54,
    55: ROUND_55_58,
    59: ROUND_59_62,
}


def measured(number: int, emphasis: str) -> str:
    """The note of blind<number>, measured once with the three other sets of its round (four from blind27 on), after
    the round before it, and of what its own round then learnt from it (ROUNDS), if anything yet."""
    first = 27 + 4 * ((number - 27) // 4)
    others = [n for n in range(first, first + 4) if n != number]
    if others == list(range(others[0], others[0] + 3)):
        alongside = f"blind{others[0]} to blind{others[-1]}"
    else:
        alongside = f"blind{others[0]}, blind{others[1]} and blind{others[2]}"
    after = f", after the packs were tuned and the model trained on blind{first - 4} to blind{first - 1}"
    note = f"blind{number} ({emphasis}) was measured once with {alongside}{after if first > 27 else ''}, and nothing "
    if first not in ROUNDS:
        return note + "has learnt from it; these floors are that measurement."
    return (
        note
        + f"had learnt from it. Then {ROUNDS[first]}; these floors keep what that round reached with the packs alone."
    )


# Adding a case set is one row here: every topic of TOPICS needs its floors.
CASE_SETS = [
    CaseSet(
        "topic-cases.dev.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.99, 0.99), "migration": (0.93, 0.99), "policing": (0.99, 0.99)},
        "The floors on the dev set are about 0.01 below what the shipped packs reach.",
    ),
    CaseSet(
        "topic-cases.extra.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.99, 0.99), "migration": (0.98, 0.99), "policing": (0.99, 0.99)},
        "The extra set is harder on purpose (new wordings, smuggling stories that mention migrants without being about"
        " migration policy).",
    ),
    CaseSet(
        "topic-cases.blind4.toml",
        {"smuggling": (0.97, 0.95), "borders": (0.97, 0.95), "migration": (0.93, 0.92), "policing": (0.93, 0.92)},
        "blind4 was measured twice before the packs were tuned on it (issue 13); these are the floors that issue set,"
        " so a later edit cannot quietly undo the classes of errors fixed there.",
    ),
    CaseSet(
        "topic-cases.blind5.toml",
        {"smuggling": (0.97, 0.97), "borders": (0.95, 0.97), "migration": (0.96, 0.97), "policing": (0.97, 0.85)},
        "blind5 was measured once before the packs were tuned on it (ambiguous words given positive context, issue 13);"
        " these floors keep what that round reached. Its recall for policing stays low on purpose: blind5 labels"
        " arrests by a national police force alone as police cooperation, which the taxonomy of the dev set does not.",
    ),
    CaseSet(
        "topic-cases.blind6.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.97, 0.99), "migration": (0.97, 0.97), "policing": (0.99, 0.99)},
        "blind6 was measured once before the packs were tuned on it (classes of errors: offences in the wording of"
        " national law, rescues and arrivals at sea, EPPO, passenger data, two countries' police forces, words with a"
        " second sense such as Schlepper, Prüm, VIS, readmission, sbarco); these floors keep what that round reached."
        " Two of its labels differ from those of the extra set (a border named in a smuggling prosecution, a route"
        " named in a smuggling story), so borders precision and migration recall stay below 1.",
    ),
    CaseSet(
        "topic-cases.blind7.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.97, 0.99), "migration": (0.97, 0.99), "policing": (0.99, 0.99)},
        "blind7 was measured once before the packs were tuned on it (classes: the facilitation offence in each"
        " language's legal and press wording, national names of detention and reception centres, the return and"
        " screening regulations and the border procedure by their names, visa policy against the other senses of"
        " Visum/visado, Schengen reports and suspension, the other senses of resettlement, readmission, respingimento"
        " and Abschiebung); these floors keep what that round reached. Two of its labels go against the other sets (a"
        " Border Guard arrest in a smuggling story is not borders; a route named in a smuggling story is not"
        " migration), so borders and migration precision stay below 1.",
    ),
    CaseSet(
        "topic-cases.blind8.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.97, 0.99), "migration": (0.99, 0.99), "policing": (0.99, 0.99)},
        "blind8 was measured twice before the packs were tuned on it (classes: generic smuggler words next to the"
        " people smuggled, drivers hiding people in vehicles, crossings made for others, the facilitation offence by"
        " each national article, the forms of exploitation of the anti-trafficking law, EPPO and automated DNA and"
        " fingerprint exchange, national reception and foreigners' offices, residence cards and permits, binational"
        " joint patrols, and the other senses of Visum/visado, SIS, asylum, resettlement, Abschiebung and the Polish"
        " Border Guard); these floors keep what that round reached. One of its labels goes against blind3 and extra"
        " (arrivals reported from Frontex figures are not borders), so borders precision stays below 1.",
    ),
    CaseSet(
        "topic-cases.blind9.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.99, 0.99), "migration": (0.99, 0.98), "policing": (0.99, 0.99)},
        "blind9 was measured twice before the packs were tuned on it (classes: payment taken for a crossing, a boat or"
        " a vehicle; people found in vehicles; passports kept by recruiters and recruitment for brothels; the"
        " criminalisation of help to migrants; Schleusung compounds and coyotes; the child sexual abuse regulation,"
        " SIRENE and liaison officers; arrivals, departures, deaths and interceptions on the crossing routes; NGO"
        " rescue ships; golden, work and seasonal visas; border barriers and Frontex operations; informal"
        " readmissions; a border named next to the police making a smuggling arrest gives way to smuggling); these"
        " floors keep what that round reached. One of its cases counts the facilitation offence in crime statistics,"
        " which the dev set's rule for the Facilitation Directive leaves to smuggling alone, so migration recall stays"
        " below 1.",
    ),
    CaseSet(
        "topic-cases.blind10.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.99, 0.99), "migration": (0.98, 0.99), "policing": (0.99, 0.99)},
        "blind10 was measured three times before the packs were tuned on it (classes: forged or false documents, sham"
        " jobs and employers' declarations sold for a stay; helpers prosecuted for sheltering or carrying migrants;"
        " labour inspectors finding exploited workers; canal locks and smugglers of history; drug and arms"
        " trafficking without cross-border or EU context; refusal of entry in each language's verbs; crossings counted"
        " over a period; countries of origin and transit; international protection of patents); these floors keep"
        " what that round reached.",
    ),
    CaseSet(
        "topic-cases.blind11.toml",
        {"smuggling": (0.99, 0.93), "borders": (0.93, 0.96), "migration": (0.95, 0.94), "policing": (0.99, 0.99)},
        "blind11 was measured twice before the packs were tuned on it (classes: journeys and fake papers sold online;"
        " a network taking people across a border; forced labour and forced theft said plainly; visas for bribes;"
        " carrier sanctions; the Entry/Exit System described; refusal of entry; church asylum; naturalisation;"
        " stowaways and drownings during crossings); these floors keep what that round reached. Three smuggling"
        " wordings were left rather than copied into the lists, so smuggling recall stays below 1.",
    ),
    CaseSet(
        "topic-cases.blind12.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.95, 0.97), "migration": (0.98, 0.93), "policing": (0.99, 0.99)},
        "blind12 was measured before the packs were tuned on it (classes: trafficking by its short names and national"
        " bodies; boat drivers and helmsmen; interceptions at sea; pushbacks by each language's verbs; national"
        " names of detention and removal; national long-stay visas; the safe third country concept); these floors"
        " keep what that round reached. One label (Schengen visas sold for bribes) differs from blind13's rule.",
    ),
    CaseSet(
        "topic-cases.blind13.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.96, 0.96), "migration": (0.98, 0.94), "policing": (0.99, 0.99)},
        "blind13 was measured before the packs were tuned on it (classes: pushbacks described; ETIAS and EES by"
        " their descriptive names; age assessment; third-country workers and the single permit; regularisation;"
        " border fences anywhere; sea-rescue wording next to the people rescued); these floors keep what that round"
        " reached.",
    ),
    CaseSet(
        "topic-cases.blind15.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.93, 0.93), "migration": (0.97, 0.90), "policing": (0.99, 0.97)},
        "blind15 was measured before the packs were tuned on it (classes: sham paternity; crossings advertised;"
        " servitude and slave labour; ransom; joint investigation teams named by two countries' adjective; boats"
        " towed back; airport waiting zones; the green border; national long-stay visas); these floors keep what"
        " that round reached. Its rule that national long-stay visas are migration only differs from older sets.",
    ),
    CaseSet(
        "topic-cases.blind14.toml",
        {"smuggling": (0.99, 0.96), "borders": (0.94, 0.93), "migration": (0.90, 0.94), "policing": (0.99, 0.99)},
        "blind14 was kept out of all tuning until it was measured, then the packs were tuned on it with blind16"
        " (classes: the offence in national legal wording; forced labour and aggravated procuring; prices per place;"
        " police cooperation centres for major events; encrypted platforms; airport transit visas; the visa database"
        " described; national border and aliens services; transmigrants); these floors keep what that round reached."
        " Its label for an airport holding centre differs from five older sets, so migration precision stays low.",
    ),
    CaseSet(
        "topic-cases.blind16.toml",
        {"smuggling": (0.95, 0.89), "borders": (0.94, 0.90), "migration": (0.94, 0.94), "policing": (0.97, 0.98)},
        "blind16 was kept out of all tuning until it was measured, then tuned on with blind14; these floors keep what"
        " that round reached. Fiction about smugglers and cases named only by their circumstances stay wrong, as no"
        " rule for them was found that spares the other sets.",
    ),
    CaseSet(
        "topic-cases.blind17.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.93, 0.96), "migration": (0.98, 0.98), "policing": (0.99, 0.99)},
        "blind17 was only measured for two rounds, then tuned on with blind18 (classes: boat organisers and"
        " departures, drivers waiting for people who crossed, scam compounds and false job offers, visa appointments"
        " sold, joint teams of two countries' police, access to data and decryption, passenger information units,"
        " crossing attempts, hybrid attacks, multiple-entry visas, removals and exiles handed back); these floors"
        " keep what that round reached. Borders precision stays low: border police acting alone against smugglers"
        " and a forged-visa network are not borders here.",
    ),
    CaseSet(
        "topic-cases.blind18.toml",
        {"smuggling": (0.97, 0.97), "borders": (0.94, 0.97), "migration": (0.97, 0.98), "policing": (0.99, 0.99)},
        "blind18 was only measured for two rounds, then tuned on with blind17; these floors keep what that round"
        " reached. Fiction about smugglers and fake invitation letters stay wrong, and plant-health and speed checks"
        " at a border still raise borders.",
    ),
    CaseSet(
        "topic-cases.blind19.toml",
        {"smuggling": (0.97, 0.99), "borders": (0.90, 0.94), "migration": (0.95, 0.93), "policing": (0.99, 0.99)},
        "blind19 was measured, then chose the relevance model's thresholds with blind20, then the packs were tuned on"
        " both (classes: people hidden among cargo, couriers waiting for a group on foot, helmsmen, fake job offers,"
        " trafficking articles of national codes, labour inspectorates, Prüm II and encrypted handsets described,"
        " the EES described, small-scale border traffic, barriers on a border, people turned back, Dublin transfers"
        " without the word); these floors keep what that round reached. Borders precision stays low: goods, customs"
        " and animal checks at a border and a refugee exhibition still raise it.",
    ),
    CaseSet(
        "topic-cases.blind20.toml",
        {"smuggling": (0.99, 0.99), "borders": (0.91, 0.94), "migration": (0.97, 0.93), "policing": (0.99, 0.99)},
        "blind20 (mostly Council register titles) chose the relevance model's thresholds with blind19, then the packs"
        " were tuned on both (classes: working parties on frontiers, visas and asylum named in agendas, visa measures"
        " against non-cooperation on readmission, coastal patrols of partner countries, the European investigation"
        " order, Eurojust described); these floors keep what that round reached. Boat landings with the crew"
        " arrested are labelled migration here and smuggling only in older sets.",
    ),
    CaseSet(
        "topic-cases.blind21.toml",
        {"smuggling": (0.96, 0.94), "borders": (0.98, 0.81), "migration": (0.94, 0.93), "policing": (0.99, 0.99)},
        "blind21 was measured once with blind22, then chose the irrelevant_below thresholds of config/topics.toml"
        " with blind22, then the packs were tuned on both (classes: forced criminality, passports taken from workers,"
        " recruitment debts, labour-migration channels abused, people held pending removal, national asylum bodies,"
        " data retention laws, arrests on Schengen alerts); these floors keep what that round reached. Borders recall"
        " stays low: EU border systems described without their names, army and patrol work at a border and border"
        " procedures named only by their place are still missed.",
    ),
    CaseSet(
        "topic-cases.blind22.toml",
        {"smuggling": (0.99, 0.98), "borders": (0.93, 0.93), "migration": (0.97, 0.95), "policing": (0.98, 0.99)},
        "blind22 (mostly Council register titles) was measured once with blind21, then chose the irrelevant_below"
        " thresholds with blind21, then the packs were tuned on both (classes: airport transit spaces and inadmissible"
        " passengers, Dublin claims, the solidarity pool, people used as a hybrid tool at the border, veterinary and"
        " customs checks at a border excluded); these floors keep what that round reached.",
    ),
    CaseSet(
        "topic-cases.blind23.toml",
        {"smuggling": (0.98, 0.96), "borders": (0.98, 0.97), "migration": (0.87, 0.90), "policing": (0.97, 0.97)},
        "blind23 (all four kinds) was measured once with blind24, with the packs and the model of 7532d5b, and"
        " nothing had learnt from it; these floors began as that measurement."
        " Smuggling and borders were then tuned on it (classes: goods senses, visas, skippers, workers, permits)."
        " Migration and policing were then tuned on it (classes: a trade in sold residence permits"
        " excluded from migration).",
    ),
    CaseSet(
        "topic-cases.blind24.toml",
        {"smuggling": (0.98, 1.0), "borders": (0.93, 0.93), "migration": (0.93, 0.92), "policing": (0.95, 0.98)},
        "blind24 (mostly Council register titles) was measured once with blind23, with the packs and the model of"
        " 7532d5b, and nothing had learnt from it; these floors began as that measurement."
        " Smuggling and borders were then tuned on it (classes: goods senses, visas, skippers, workers, permits)."
        " Migration was then tuned on it with blind23 (a trade in sold residence permits excluded).",
    ),
    CaseSet(
        "topic-cases.blind25.toml",
        {"smuggling": (0.97, 0.94), "borders": (0.97, 0.92), "migration": (0.92, 0.89), "policing": (0.98, 0.98)},
        "blind25 (mostly feed items) was measured once with blind26, after the packs were tuned on blind23 and"
        " blind24; these floors are that measurement. Then smuggling and borders were tuned on it (the model's"
        " thresholds for both, and sense markers: fuel and vehicles smuggled, kitchen strainers, long-stay visas).",
    ),
    CaseSet(
        "topic-cases.blind26.toml",
        {"smuggling": (0.96, 0.88), "borders": (0.91, 0.96), "migration": (0.94, 0.97), "policing": (0.97, 0.98)},
        "blind26 (mostly summaries) was measured once with blind25, after the packs were tuned on blind23 and"
        " blind24; these floors are that measurement. Then smuggling and borders were tuned on it with blind25.",
    ),
    CaseSet(
        "topic-cases.blind27.toml",
        {"smuggling": (0.97, 0.76), "borders": (0.95, 0.95), "migration": (0.93, 0.91), "policing": (1.0, 1.0)},
        measured(27, "emphasis on smuggling"),
    ),
    CaseSet(
        "topic-cases.blind28.toml",
        {"smuggling": (0.96, 0.92), "borders": (0.98, 0.89), "migration": (0.91, 0.78), "policing": (0.94, 0.94)},
        measured(28, "emphasis on borders"),
    ),
    CaseSet(
        "topic-cases.blind29.toml",
        {"smuggling": (1.0, 0.93), "borders": (1.0, 0.96), "migration": (0.98, 0.91), "policing": (0.97, 0.97)},
        measured(29, "emphasis on migration"),
    ),
    CaseSet(
        "topic-cases.blind30.toml",
        {"smuggling": (1.0, 0.85), "borders": (0.96, 0.88), "migration": (0.92, 0.84), "policing": (0.95, 0.83)},
        measured(30, "emphasis on policing"),
    ),
    CaseSet(
        "topic-cases.blind31.toml",
        {"smuggling": (0.96, 0.48), "borders": (0.93, 0.88), "migration": (0.82, 0.93), "policing": (0.97, 0.97)},
        measured(31, "emphasis on smuggling: trafficking through its forms, facilitation described"),
    ),
    CaseSet(
        "topic-cases.blind32.toml",
        {"smuggling": (1.0, 0.8), "borders": (0.91, 0.79), "migration": (0.79, 0.89), "policing": (1.0, 0.83)},
        measured(32, "emphasis on borders: surveillance and border systems described"),
    ),
    CaseSet(
        "topic-cases.blind33.toml",
        {"smuggling": (0.95, 0.74), "borders": (0.9, 0.83), "migration": (0.89, 0.86), "policing": (1.0, 1.0)},
        measured(33, "emphasis on migration: asylum, reception and return named indirectly"),
    ),
    CaseSet(
        "topic-cases.blind34.toml",
        {"smuggling": (0.95, 0.78), "borders": (1.0, 0.96), "migration": (0.92, 0.9), "policing": (0.98, 0.87)},
        measured(34, "emphasis on policing: EU cooperation named indirectly"),
    ),
    CaseSet(
        "topic-cases.blind35.toml",
        {"smuggling": (0.96, 0.65), "borders": (0.86, 0.91), "migration": (0.91, 0.84), "policing": (0.94, 0.92)},
        measured(35, "smuggling and policing together, described without their words"),
    ),
    CaseSet(
        "topic-cases.blind36.toml",
        {"smuggling": (0.96, 0.8), "borders": (0.97, 0.92), "migration": (0.94, 0.83), "policing": (1.0, 0.96)},
        measured(36, "borders and migration together, in national-news wording"),
    ),
    CaseSet(
        "topic-cases.blind37.toml",
        {"smuggling": (1.0, 0.9), "borders": (0.91, 0.91), "migration": (0.92, 0.96), "policing": (0.89, 0.91)},
        measured(37, "mostly Council register titles and press releases"),
    ),
    CaseSet(
        "topic-cases.blind38.toml",
        {"smuggling": (0.95, 0.61), "borders": (0.89, 0.89), "migration": (0.88, 0.81), "policing": (0.93, 0.93)},
        measured(38, "mostly local news feed items"),
    ),
    CaseSet(
        "topic-cases.blind39.toml",
        {"smuggling": (0.92, 0.72), "borders": (0.91, 0.75), "migration": (0.92, 0.8), "policing": (0.94, 0.86)},
        measured(39, "emphasis on borders: near misses sharing border words") + IXIM_LOWERED.format(was=0.96),
    ),
    CaseSet(
        "topic-cases.blind40.toml",
        {"smuggling": (0.96, 0.42), "borders": (0.89, 0.78), "migration": (0.85, 0.73), "policing": (0.96, 0.96)},
        measured(40, "emphasis on smuggling described through what happened"),
    ),
    CaseSet(
        "topic-cases.blind41.toml",
        {"smuggling": (0.96, 0.78), "borders": (0.88, 0.9), "migration": (0.87, 0.85), "policing": (1.0, 0.97)},
        measured(41, "EU institutional sources, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind42.toml",
        {"smuggling": (0.93, 0.8), "borders": (0.88, 0.92), "migration": (0.89, 0.83), "policing": (0.94, 0.91)},
        measured(42, "press-agency wires, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind43.toml",
        {"smuggling": (1.0, 0.86), "borders": (0.93, 0.9), "migration": (0.85, 0.91), "policing": (0.95, 0.91)},
        measured(43, "borders and policing together"),
    ),
    CaseSet(
        "topic-cases.blind44.toml",
        {"smuggling": (1.0, 0.62), "borders": (0.92, 0.9), "migration": (0.9, 0.8), "policing": (0.96, 0.96)},
        measured(44, "smuggling and migration together, as NGOs, courts and local reporters tell them"),
    ),
    CaseSet(
        "topic-cases.blind45.toml",
        {"smuggling": (0.96, 0.72), "borders": (0.95, 0.93), "migration": (0.88, 0.92), "policing": (0.95, 0.93)},
        measured(45, "Council documents and press releases, all four topics") + IXIM_LOWERED.format(was=0.97),
    ),
    CaseSet(
        "topic-cases.blind46.toml",
        {"smuggling": (0.96, 0.77), "borders": (0.97, 0.93), "migration": (0.9, 0.76), "policing": (0.97, 0.92)},
        measured(46, "headlines and one-line feed items, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind47.toml",
        {"smuggling": (0.96, 0.77), "borders": (0.96, 0.93), "migration": (1.0, 0.81), "policing": (0.96, 0.96)},
        measured(47, "emphasis on migration in national news, NGOs and courts"),
    ),
    CaseSet(
        "topic-cases.blind48.toml",
        {"smuggling": (1.0, 0.84), "borders": (0.9, 0.9), "migration": (0.95, 0.8), "policing": (0.94, 1.0)},
        measured(48, "summaries of reports and studies, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind49.toml",
        {"smuggling": (1.0, 0.87), "borders": (0.97, 0.88), "migration": (0.93, 0.86), "policing": (1.0, 0.97)},
        measured(49, "regional and local feed items, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind50.toml",
        {"smuggling": (0.96, 0.91), "borders": (0.95, 0.97), "migration": (1.0, 0.9), "policing": (0.95, 0.97)},
        measured(50, "Council register titles, agendas and press releases and EUR-Lex titles"),
    ),
    CaseSet(
        "topic-cases.blind51.toml",
        {"smuggling": (1.0, 0.86), "borders": (0.93, 0.71), "migration": (0.91, 0.88), "policing": (1.0, 0.96)},
        measured(51, "emphasis on borders in ordinary words"),
    ),
    CaseSet(
        "topic-cases.blind52.toml",
        {"smuggling": (1.0, 0.79), "borders": (0.84, 0.96), "migration": (0.82, 0.89), "policing": (1.0, 1.0)},
        measured(52, "emphasis on facilitation and trafficking described indirectly"),
    ),
    CaseSet(
        "topic-cases.blind53.toml",
        {"smuggling": (1.0, 0.91), "borders": (0.91, 0.93), "migration": (0.95, 0.88), "policing": (0.92, 1.0)},
        measured(53, "European Parliament items and EU agency press releases, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind54.toml",
        {"smuggling": (0.96, 0.9), "borders": (0.97, 0.84), "migration": (0.9, 0.81), "policing": (1.0, 0.84)},
        measured(54, "summaries of judgments and legislative proposals, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind55.toml",
        {"smuggling": (1.0, 0.83), "borders": (1.0, 0.97), "migration": (0.92, 0.94), "policing": (1.0, 0.97)},
        measured(55, "emphasis on migration's near misses: mobility, statistics, other migrations"),
    ),
    CaseSet(
        "topic-cases.blind56.toml",
        {"smuggling": (1.0, 0.65), "borders": (0.92, 0.78), "migration": (0.97, 0.73), "policing": (1.0, 0.91)},
        measured(56, "emphasis on borders' near misses: border regions, customs, maps"),
    ),
    CaseSet(
        "topic-cases.blind57.toml",
        {"smuggling": (1.0, 0.85), "borders": (0.86, 0.92), "migration": (0.88, 0.88), "policing": (1.0, 0.92)},
        measured(57, "news-agency wires, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind58.toml",
        {"smuggling": (0.96, 0.78), "borders": (1.0, 0.93), "migration": (0.96, 0.88), "policing": (1.0, 0.97)},
        measured(58, "watchdogs', NGOs' and rights bodies' reports, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind59.toml",
        {"smuggling": (1.0, 0.76), "borders": (0.96, 0.83), "migration": (0.84, 0.84), "policing": (0.96, 0.92)},
        measured(59, "emphasis on borders as national and regional news report it"),
    ),
    CaseSet(
        "topic-cases.blind60.toml",
        {"smuggling": (0.95, 0.75), "borders": (0.93, 0.91), "migration": (0.97, 0.77), "policing": (0.94, 0.91)},
        measured(60, "borders and migration together in Council, EUR-Lex and Commission texts"),
    ),
    CaseSet(
        "topic-cases.blind61.toml",
        {"smuggling": (1.0, 0.67), "borders": (0.89, 0.87), "migration": (0.88, 0.79), "policing": (0.97, 0.9)},
        measured(61, "think tanks, NGOs, watchdogs and EU agencies, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind62.toml",
        {"smuggling": (1.0, 0.77), "borders": (0.88, 0.94), "migration": (0.9, 0.9), "policing": (0.94, 1.0)},
        measured(62, "national and local news, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind63.toml",
        {"smuggling": (1.0, 0.87), "borders": (0.89, 0.95), "migration": (0.9, 0.96), "policing": (0.97, 0.94)},
        measured(63, "Council register titles, agendas, outcomes and press releases, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind64.toml",
        {"smuggling": (1.0, 0.83), "borders": (1.0, 0.92), "migration": (0.97, 0.85), "policing": (0.95, 0.97)},
        measured(64, "headlines and one-line feed items, all four topics"),
    ),
    CaseSet(
        "topic-cases.blind65.toml",
        {"smuggling": (1.0, 0.75), "borders": (0.94, 0.64), "migration": (0.91, 0.79), "policing": (1.0, 0.71)},
        measured(65, "borders and policing in ordinary words"),
    ),
    CaseSet(
        "topic-cases.blind66.toml",
        {"smuggling": (0.96, 0.69), "borders": (0.9, 0.87), "migration": (0.96, 0.85), "policing": (1.0, 1.0)},
        measured(66, "smuggling and migration as courts, NGOs and local reporters tell them"),
    ),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_topics(ROOT / "config" / "topics.toml"))


def load_cases(name: str) -> list[dict]:
    return tomllib.loads((DATA / name).read_text(encoding="utf-8"))["case"]


def as_item(case: dict, number: int) -> Item:
    """Summaries go in the summary field, titles and headlines in the title, as sources do."""
    if case["kind"] == "summary":
        return Item(source="cases", id=str(number), title="", url="", summary=case["text"])
    return Item(source="cases", id=str(number), title=case["text"], url="")


def score(matcher: Matcher, cases: list[dict], topic_id: str) -> tuple[float, float, list[str]]:
    """Precision, recall and the misclassified texts for one topic."""
    tp = fp = fn = 0
    wrong = []
    for number, case in enumerate(cases):
        hit = topic_id in {m.topic for m in matcher.match(as_item(case, number))}
        wanted = topic_id in case["topics"]
        tp += hit and wanted
        fp += hit and not wanted
        fn += wanted and not hit
        if hit != wanted:
            wrong.append(("FP " if hit else "FN ") + case["text"])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall, wrong


@pytest.mark.parametrize(
    "case_set, topic_id",
    [
        pytest.param(case_set, topic_id, id=f"{case_set.name}-{topic_id}")
        for case_set in CASE_SETS
        for topic_id in TOPICS
    ],
)
def test_topic_meets_floors_on_case_set(matcher, case_set, topic_id):
    """Each shipped topic keeps precision and recall above its floors on each case set (why: CaseSet.why)."""
    precision, recall, wrong = score(matcher, load_cases(case_set.file), topic_id)
    floor_p, floor_r = case_set.floors[topic_id]
    assert precision >= floor_p and recall >= floor_r, (precision, recall, wrong, case_set.why)


@pytest.mark.parametrize(
    "text, expected",
    [
        # a word with other senses and none of the topic's words near it
        ("Volunteers count flamingo migration in the Tagus estuary", set()),
        ("Migration of the Commission payroll to a new SAP platform completed", set()),
        ("Das Tierheim bietet Hunden ein Azyl", set()),
        ("Antigo asilo de mendicidade reabre como residência de estudantes", set()),
        ("Rückführung von Leihgaben: Museen holen Gemälde zurück", set()),
        ("The border of the image is blurred after compression", set()),
        ("Le SIS du Gard engage 200 sapeurs-pompiers", set()),
        ("The Irish EES obliges energy suppliers to deliver yearly savings", set()),
        ("Em Schengen, os vinhos da Mosela celebram a vindima", set()),
        ("Amending budget 4/2026: heading 4, line 11.10.02 (Frontex)", set()),
        ("Customs seize cigarettes at the Medyka border crossing point", set()),
        ("Der Schlepper zog das Containerschiff in den Hafen", set()),
        ("Prüm: Stadtrat beschließt neuen Haushalt", set()),
        ("Het VIS in de Noordzee: quotum voor kabeljauw omlaag", set()),
        ("Hospital readmission within 30 days falls in Denmark", set()),
        ("Lifeboat crew rescue two kitesurfers off Cornwall", set()),
        ("Tourist arrivals in the Canary Islands hit a record in August", set()),
        ("Regolamento sulla pesca: l'obbligo di sbarco viene semplificato", set()),
        ("Gas TSOs publish entry/exit system tariffs for 2026", set()),
        ("Rückkehr des Luchses in den Pfälzerwald", set()),
        ("La Guardia Civil y la Policía Nacional detienen a un atracador en Madrid", set()),
        ("EPPO charges former mayor with misuse of EU farm subsidies", set()),
        ("Opvangplekken voor daklozen in Amsterdam uitgebreid", set()),
        # the same words next to the words of the topic's sense
        ("Ministers agree on the new migration policy", {"migration"}),
        ("Polska: wnioski o azyl złożone na granicy z Białorusią", {"borders", "migration"}),
        ("Rückführung abgelehnter Asylbewerber nach Afghanistan", {"migration"}),
        ("Travellers queue for hours at the border with Belarus", {"borders"}),
        (
            "Le SIS contient des signalements aux fins de retour sur les ressortissants de pays tiers",
            {"borders", "migration"},
        ),
        ("EES: fingerprints of travellers taken at airports from October", {"borders"}),
        ("Schengen members agree to lift internal checks with Bulgaria", {"borders"}),
        ("Polizei nimmt mutmaßliche Schlepper an der A4 fest", {"smuggling"}),
        ("Le Conseil adopte le règlement Prüm II sur l'échange automatisé de données", {"policing"}),
        ("VIS: Council adopts revised regulation on visa information", {"borders"}),
        ("EU and Bangladesh discuss readmission of irregular migrants", {"migration"}),
        ("Salvamento Marítimo rescata a 52 personas de una patera al sur de Lanzarote", {"migration"}),
        ("Irregular arrivals to the Canary Islands doubled in 2024", {"migration"}),
        ("Sbarco di 300 migranti a Lampedusa nella notte", {"migration"}),
        ("Parquet européen : démantèlement d'une fraude carrousel à la TVA de 50 millions", {"policing"}),
        ("Gemeenten moeten meer opvangplekken voor asielzoekers bieden", {"migration"}),
        # classes named without the usual words
        ("Screening of third-country nationals arriving irregularly begins under the Pact", {"borders", "migration"}),
        ("Minori stranieri non accompagnati: nuovi centri di prima accoglienza", {"migration"}),
        ("Une filière d'acheminement de migrants démantelée à Calais", {"smuggling"}),
        (
            "Traité de Tournai : la Belgique et la France étendent le droit de poursuite de leurs policiers",
            {"policing"},
        ),
    ],
)
def test_ambiguous_words_count_only_with_their_context(matcher, text, expected):
    """Words with other senses (migration, asilo, Azyl, Rückführung, border, SIS, EES, Schengen, Frontex in a
    budget line, Schlepper, Prüm, VIS, readmission, rescue, arrivals, sbarco, EPPO, opvang) raise a topic only next
    to words of its sense; classes named without them still do."""
    assert {m.topic for m in matcher.match(as_item({"kind": "feed-item", "text": text}, 0))} == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Police find migrants hidden in a refrigerated lorry near Calais; two smugglers arrested", {"smuggling"}),
        ("Österreich: Polizei fasst Schlepper, die 30 Migranten in einem Kleinbus transportierten", {"smuggling"}),
        ("Mehr Migranten erreichen Lampedusa, meldet das italienische Innenministerium", {"migration"}),
        ("Europol supports the arrest of smugglers operating on the Balkan route", {"smuggling", "policing"}),
        ("Ministers discuss the situation on the Western Balkans route", {"migration"}),
        ("Criminal networks smuggle migrants across the Aegean, Council conclusions say", {"smuggling"}),
        ("Council conclusions on dismantling criminal networks in EU ports", {"policing"}),
    ],
)
def test_shipped_packs_follow_the_labelling_conventions(matcher, text, expected):
    """A smuggling story that only mentions migrants, a route or criminal networks raises smuggling, not
    migration or policing; the same words still count in other items."""
    assert {m.topic for m in matcher.match(as_item({"kind": "feed-item", "text": text}, 0))} == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # trafficking named by its forms
        ("Two women were jailed for forcing children from Moldova to beg outside churches in Turin", {"smuggling"}),
        ("Workers recruited in Nepal were forced to run online investment scams from a compound", {"smuggling"}),
        ("Fourteen couriers worked without pay for a parcel firm that kept their residence cards", {"smuggling"}),
        # facilitation by its price or its organiser
        ("Police in Brindisi arrested the organiser of the crossing after 40 migrants landed", {"smuggling"}),
        # Interpol: its joint operations are policing, a red notice for one fugitive and a passport found in its
        # stolen-document list at a border are not
        ("Interpol red notice issued for a former bank manager accused of embezzlement", set()),
        (
            "Guards at Terespol refused entry to a man whose passport was on Interpol's stolen and lost travel"
            " documents list",
            {"borders"},
        ),
        ("Interpol and Europol coordinate a week of action against firearms trafficking in 30 countries", {"policing"}),
        # the criminal records systems, by name and described
        ("Member states complete the upload of their data to ECRIS-TCN", {"policing"}),
        # long-stay national visas are migration, not border policy
        ("Spain will issue long-stay national visas to carers hired in Peru", {"migration"}),
        # border surveillance described, not military drones
        (
            "Drones send live images of boats south of Crete to the national coordination centre",
            {"borders"},
        ),
        ("Two Russian drones entered Polish airspace overnight and were tracked by radar, the army said", set()),
        # blind31 to blind34
        ("The Warsaw-based EU agency will lease two more surveillance aircraft for the Aegean", {"borders"}),
        ("Una euroorden permitió entregar a Francia al jefe de un clan que traficaba con cocaína", {"policing"}),
        ("Voortvluchtige oplichter via Interpol opgepakt in Spanje", set()),
        ("A Syrian teenager was handed a borrowed passport to enter the country, police said", {"smuggling"}),
        ("Nederland legde vorig jaar 7.000 beschermingsverzoeken vast", {"migration"}),
        ("Die Bundesregierung vereinbart die Rückführung von Kulturgütern und Bronzen aus Museen", set()),
        # blind43 to blind46
        ("Sant'Egidio brings 40 Syrians from Lebanon to Rome through its humanitarian corridors", {"migration"}),
        ("Kustwacht redt drie zeilers van een gekapseisde catamaran bij Terschelling", set()),
        ("Bourse : le retour des investisseurs etrangers soutient le CAC 40", set()),
        # blind35 to blind38
        (
            "Proposal for a Regulation establishing a return border procedure: Presidency compromise",
            {"borders", "migration"},
        ),
        (
            "Forty women were freed from flat brothels after being forced to see clients to pay off their travel",
            {"smuggling"},
        ),
        ("A patrol boat rescued two hikers stranded below the cliffs near the port", set()),
    ],
)
def test_forms_and_descriptions_learnt_from_blind27_to_blind46(matcher, text, expected):
    """Classes of error of blind27 to blind46 (the forms of trafficking, facilitation by its organiser, Interpol,
    ECRIS-TCN, national visas, border surveillance described; Frontex by its seat, the arrest warrant's other names,
    borrowed passports, Dutch protection requests, art returned; the return border procedure by name, women forced to
    see clients, hikers rescued; humanitarian corridors, sailors rescued, foreign investors) stay fixed, with fresh
    wordings and their near misses."""
    assert {m.topic for m in matcher.match(as_item({"kind": "feed-item", "text": text}, 0))} == expected


def test_joint_patrols_for_football_fans_are_not_border_work(matcher):
    """Mixed patrols next to fans or holiday traffic raise no border topic (the police cooperation rule, which reads
    only four words either side, may still raise policing)."""
    text = "Pattuglie miste italo-francesi a Ventimiglia per i tifosi della finale di coppa"
    assert "borders" not in {m.topic for m in matcher.match(as_item({"kind": "feed-item", "text": text}, 0))}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("A Finnish Border Guard patrol photographed a lynx with two cubs near the eastern frontier", set()),
        ("Finnish border guards turned back 40 people who tried to cross from Russia at Salla", {"borders"}),
        ("Visto como favorito, o clube perdeu na fronteira com Espanha", set()),
    ],
)
def test_forms_and_descriptions_learnt_from_blind39_to_blind42(matcher, text, expected):
    """Classes of error of blind39 to blind42 (border guards filming wildlife, "visto como") stay fixed, and border
    guards at work still count."""
    topics = {m.topic for m in matcher.match(as_item({"kind": "feed-item", "text": text}, 0))}
    assert topics & {"borders"} == expected


@pytest.mark.parametrize(
    "text, topic, expected",
    [
        # crossings offered online and taken down; propaganda is not
        (
            "Europol's internet referral unit had 600 posts advertising boat crossings to Britain taken offline",
            "smuggling",
            True,
        ),
        (
            "Europol's internet referral unit flagged 2 000 pieces of jihadist propaganda about journeys to Syria",
            "smuggling",
            False,
        ),
        # made or forced to work, in Dutch and Polish; works ordered and shops made to open are not
        ("Bende die Roemeense vrouwen achter de ramen in Gent liet werken opgerold", "smuggling", True),
        ("De provincie liet werken aan de brug uitvoeren", "smuggling", False),
        ("Sąd skazał gang, który zmuszał Ukraińców do pracy na budowach", "smuggling", True),
        ("Nowe przepisy zmuszają sklepy do pracy w niedziele", "smuggling", False),
        # the organiser of a journey of people who came by boat; not of a pilgrimage
        ("Polícia deteve o organizador da viagem depois de 30 migrantes desembarcarem em Tavira", "smuggling", True),
        ("O organizador da viagem a Fátima foi detido por burla", "smuggling", False),
        ("Konsulat wydawał wizy na podstawie fikcyjnych zaproszeń od firm", "smuggling", True),
        # labour and sexual exploitation: passports handed over, servitude in a household, debts worked off in
        # flat brothels, a fee to hide people in a lorry; not tax debts, money hidden, speeding or ride-hailing
        ("Die Erntehelfer mussten ihre Pässe abgeben und für 3 Euro pro Stunde arbeiten", "smuggling", True),
        ("Un couple condamné pour avoir réduit une employée de maison en servitude", "smuggling", True),
        ("Frauen in Wohnungsbordellen mussten Schulden von 30.000 Euro abarbeiten", "smuggling", True),
        ("Brothel owner jailed over tax debts of 200,000 euros", "smuggling", False),
        ("Un hombre cobraba 1.500 euros por ocultar a jóvenes en los bajos de un camión", "smuggling", True),
        ("Cobraba comisiones por esconder el dinero de sus clientes en Andorra", "smuggling", False),
        ("La France poursuit les excès de vitesse des conducteurs étrangers", "smuggling", False),
        ("Fee-based networks move people from Agadez to the Libyan coast", "smuggling", True),
        ("Ride-hailing apps move people across the city for a fee", "smuggling", False),
        # asylum claims and removals described; insurance claims and charter flights for fans are not
        ("Hotels housing people waiting for a Home Office decision on their claims will close", "migration", True),
        ("Flood victims in Yorkshire still wait for a decision on their claims from insurers", "migration", False),
        ("Un vol groupé a reconduit 40 ressortissants albanais à Tirana", "migration", True),
        ("Vol groupé pour les supporters lyonnais vers Madrid", "migration", False),
        ("Ministers debate the returns legislation before the summer", "migration", True),
        ("Changes to tax returns legislation for the self-employed", "migration", False),
        ("Warschau setzt das Recht auf Antragstellung an der Grenze zu Belarus aus", "migration", True),
        ("Health and care worker visa holders will no longer bring dependants", "migration", True),
        ("Protection of migratory waterbirds along the East Atlantic flyway", "migration", False),
        # border work: readmission by the Polish Border Guard, API in German; salmon nets are not
        ("Straż Graniczna przekazała Ukrainie 8 osób na podstawie umowy o readmisji", "borders", True),
        ("Die Verordnung über vorab übermittelte Fluggastdaten tritt in Kraft", "borders", True),
        ("Finnish Border Guard officers checked salmon nets on the Tornio", "borders", False),
        # policing: IXIM by its Spanish name, airline booking data; Interpol at a passport check is border work
        ("Grupo «Intercambio de Información en materia de JAI»: orden del día", "policing", True),
        ("LIBE asks whether airline booking data kept for five years is proportionate", "policing", True),
        ("A traveller found in Interpol's database at passport control in Faro was refused entry", "policing", False),
    ],
)
def test_forms_and_descriptions_learnt_from_blind47_to_blind50(matcher, text, topic, expected):
    """Classes of error of blind47 to blind50 stay fixed with the packs alone, in fresh wordings, and their near
    misses raise nothing of the topic."""
    topics = {m.topic for m in matcher.match(as_item({"kind": "feed-item", "text": text}, 0))}
    assert (topic in topics) is expected


@pytest.mark.parametrize(
    "text, topic, expected",
    [
        # entry refusals: travellers turned away for their papers or means are border checks, not migration
        (
            "Airport police refused entry to 40 travellers without proof of accommodation or sufficient means",
            "migration",
            False,
        ),
        ("Menton : 400 exilés ont fait l'objet d'un refus d'entrée cette semaine", "migration", True),
        ("Germany issues national D visas to electricians from India", "migration", True),
        ("Het Asielagentschap van de EU stuurt extra medewerkers naar Griekenland", "migration", True),
        ("Storks on their migration route rest in the Ebro delta", "migration", False),
        ("A migração dos processos judiciais para o novo sistema de gestão terminou", "migration", False),
        ("Ogłoszono relokację centrum usług koncernu do Indii", "migration", False),
        # money for the journeys, the offence described, wages confiscated, forced marriage by a clan
        ("Gangs collected payments from families for the journeys of their sons to Lampedusa", "smuggling", True),
        ("Hawala brokers moved the money for the crossings to the organisers in Libya", "smuggling", True),
        ("Hawala networks financed the terror cell", "smuggling", False),
        ("The reform punishes those who help people enter or stay without authorisation for profit", "smuggling", True),
        ("MEPs want to help people enter the EU legally for work", "smuggling", False),
        ("Ermittler: Das Netzwerk konfiszierte ihren Lohn und ihre Pässe", "smuggling", True),
        ("A clan bought girls for forced marriages from their families", "smuggling", True),
        ("The directive on violence against women criminalises forced marriage", "smuggling", False),
        ("Italian court returns Etruscan vases smuggled out in the 1970s", "smuggling", False),
        # IXIM is policing; a hit at a passport check is border work; hikers helped are neither
        ("Werkgroep IXIM: stand van zaken Prüm II", "policing", True),
        ("Au poste-frontière de Roissy, une consultation du SIS a permis d'interpeller un voyageur", "policing", False),
        ("Un patrol Straży Granicznej pomógł turystce zejść ze szlaku w Tatrach", "borders", False),
    ],
)
def test_forms_and_descriptions_learnt_from_blind51_to_blind54(matcher, text, topic, expected):
    """Classes of error of blind51 to blind54 stay fixed with the packs alone, in fresh wordings, and their near
    misses raise nothing of the topic."""
    topics = {m.topic for m in matcher.match(as_item({"kind": "feed-item", "text": text}, 0))}
    assert (topic in topics) is expected


@pytest.mark.parametrize(
    "text, topic, expected",
    [
        # border checks, the travel authorisation and hand-backs in plain words
        ("Officers checked every passport at the Terespol crossing, with queues of six hours", "borders", True),
        ("Die Bundespolizei prüft die Ausweise aller Reisenden im Zug aus Salzburg", "borders", True),
        (
            "Da ottobre i turisti americani dovranno compilare un modulo online e pagare prima di viaggiare nei paesi"
            " europei",
            "borders",
            True,
        ),
        ("Visitors will have to fill in an online form before travelling to Schengen countries", "borders", True),
        ("Un migrante fermato sul Carso è stato riconsegnato alle autorità slovene", "borders", True),
        ("Straż Graniczna montuje nowe kamery i czujniki na odcinku przy Białorusi", "borders", True),
        ("Der Verein führt Ausweiskontrollen am Stadioneinlass ein", "borders", False),
        ("Strażnicy graniczni z placówki odnaleźli grzybiarzy, którzy zgubili się w lesie", "borders", False),
        # the solidarity pool in French, the screening regulation by its number; cruise passengers are not
        ("Réserve annuelle de solidarité : 30 000 relocalisations promises", "migration", True),
        ("Regolamento (UE) 2024/1356: relazione della Commissione", "migration", True),
        ("Venezia: meno sbarchi dalle grandi navi da crociera quest'estate", "migration", False),
        # joint patrols of two nations' officers; a hit at an entry check is border work
        ("Agentes españoles y franceses realizarán patrullas mixtas en Irún", "policing", True),
        (
            "Bei der Einreisekontrolle in München schlug das Schengener Informationssystem an: ein gesuchter Betrüger"
            " wurde festgenommen",
            "policing",
            False,
        ),
    ],
)
def test_forms_and_descriptions_learnt_from_blind55_to_blind58(matcher, text, topic, expected):
    """Classes of error of blind55 to blind58 stay fixed with the packs alone, in fresh wordings, and their near
    misses raise nothing of the topic."""
    topics = {m.topic for m in matcher.match(as_item({"kind": "feed-item", "text": text}, 0))}
    assert (topic in topics) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Ihr Besuchervisum wurde vom Konsulat in Lagos abgelehnt", True),
        ("Il consolato ha respinto la richiesta di visto di breve durata di un regista senegalese", True),
        ("Konsulat ogranicza terminy na krótkoterminowe wizy dla Białorusinów", True),
        (
            "Un réseau d'ONG recense 500 personnes reconduites de force vers la Serbie après avoir franchi la"
            " frontière hongroise",
            True,
        ),
        ("A Fiumicino un latitante ricercato dall'Interpol è stato fermato al controllo passaporti", True),
        ("Finland's Border Guard sent patrol vessels to contain an oil slick near Hanko", False),
        ("Reglamento por el que se establecen normas sobre los controles fronterizos de determinados vegetales", False),
    ],
)
def test_forms_and_descriptions_learnt_from_blind59_to_blind62(matcher, text, expected):
    """Classes of error of blind59 to blind62 (short-stay visas by name, Interpol at the passport check, people
    taken back by force; an oil slick and plant checks kept out) stay fixed with the packs alone."""
    topics = {m.topic for m in matcher.match(as_item({"kind": "feed-item", "text": text}, 0))}
    assert ("borders" in topics) is expected


def test_case_sets_give_floors_for_every_topic():
    """Each case set names a different file and gives floors for every topic, no more and no fewer."""
    assert len({case_set.name for case_set in CASE_SETS}) == len(CASE_SETS)
    for case_set in CASE_SETS:
        assert set(case_set.floors) == set(TOPICS), case_set.file
        assert (DATA / case_set.file).is_file(), case_set.file


def test_case_files_are_well_formed():
    """Every case has text, a known language and kind, and only known topic ids."""
    for name in ("topic-cases.dev.toml", "topic-cases.extra.toml"):
        for case in load_cases(name):
            assert case["text"].strip() and case["lang"] in {"en", "fr", "de", "es", "it", "nl", "pl", "pt"}
            assert case["kind"] in {"register-title", "press-release", "feed-item", "summary"}
            assert set(case["topics"]) <= set(TOPICS), case


def test_near_misses_of_the_dev_set_raise_nothing(matcher):
    """Every negative of the dev set, near misses (CBAM, IT migration...) included, raises no topic."""
    source = (DATA / "topic-cases.dev.toml").read_text(encoding="utf-8")
    near = [line for line in source.splitlines() if line.startswith("# near-miss")]
    cases = [c for c in load_cases("topic-cases.dev.toml") if not c["topics"]]
    noisy = [
        (c["text"], [m.terms for m in matcher.match(as_item(c, 0))]) for c in cases if matcher.match(as_item(c, 0))
    ]
    assert len(near) >= 20 and noisy == []


def test_real_think_tank_feed_raises_the_expected_topics(matcher):
    """On a real EP Think Tank feed only the migration, asylum, PNR and temporary-protection items fire."""
    import xml.etree.ElementTree as ET

    root = ET.parse(DATA / "ep-thinktank-rss-2026-09-15.xml").getroot()
    found = {}
    for entry in root.iter("item"):
        item = Item(
            source="ep", id="x", title=entry.findtext("title"), url="", summary=entry.findtext("description") or ""
        )
        topics = {m.topic for m in matcher.match(item)}
        if topics:
            found[item.title.split(" - ")[1][:30]] = topics
    assert found == {
        "Ceuta migrant crisis: What it ": {"migration", "borders"},
        "New approaches to asylum and i": {"migration"},
        "EU-Switzerland PNR Agreement": {"policing"},
        "Temporary protection for displ": {"migration"},
    }
