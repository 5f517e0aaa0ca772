"""The words Council page-1 headers are printed with, in English, French and German: month names, the date line's
places, document types (normalised to one English vocabulary), field labels, distribution codes, senders and
recipients, and the words that open a subject or the body after it.

Plain tables and the patterns built from them; ``header`` reads with them.
"""

from __future__ import annotations

import re

MONTHS = {
    name: i + 1
    for names in (
        "january february march april may june july august september october november december",
        "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "januar februar märz april mai juni juli august september oktober november dezember",
    )
    for i, name in enumerate(names.split())
} | {"jänner": 1, "fevrier": 2, "aout": 8, "decembre": 12, "maerz": 3}
MONTH = (
    r"(?:"
    + "|".join(
        sorted({re.escape(m) for m in MONTHS} | {re.escape(m.capitalize()) for m in MONTHS}, key=len, reverse=True)
    )
    + r")"
)

# "Brussels, 11 October 2023", "Bruxelles, le 1er mars 2016", "Brüssel, den 18. Februar 2021".
PLACES = ("Brussels", "Bruxelles", "Brüssel", "Luxembourg", "Luxemburg", "Strasbourg", "Straßburg")
DATE_LINE = re.compile(r"(?<![\w-])(?:" + "|".join(PLACES) + r")[ \t]*,[ \t]*(?:(?:le|den)[ \t]+)?")
FULL_DATE = re.compile(r"(\d{1,2})(?:er|\.)?[ \t]+(" + MONTH + r")[ \t]+((?:19|20)\d\d)(?!\d)")
# "20 and 22 September 2023", "18 et 20 octobre 2023", "8. und 10. November 2023", "17. Januar 2024".
_DAY = r"\d{1,2}(?:er|\.)?"
MEETING_DATES = re.compile(
    rf"{_DAY}(?:(?:[ \t]*,[ \t]*|[ \t]+(?:and|et|und)[ \t]+|[ \t]*[-–][ \t]*){_DAY})*"
    rf"\s+{MONTH}(?:\s+(?:19|20)\d\d)?(?!\d)"
)

_Q = "[\"'‘’“”„«»]"
# (pattern of the printed type, normalised type). Printed types are upper case; quotes vary.
TYPES: tuple[tuple[str, str], ...] = (
    (rf"{_Q}\s*I/A\s*{_Q}\s+ITEM\s+NOTE", '"I/A" ITEM NOTE'),
    (rf"{_Q}\s*I\s*{_Q}\s+ITEM\s+NOTE", '"I" ITEM NOTE'),
    (rf"{_Q}\s*A\s*{_Q}\s+ITEM\s+NOTE", '"A" ITEM NOTE'),
    (rf"NOTE\s+POINT\s*{_Q}\s*I/A\s*{_Q}", '"I/A" ITEM NOTE'),
    (rf"NOTE\s+POINT\s*{_Q}\s*I\s*{_Q}", '"I" ITEM NOTE'),
    (rf"NOTE\s+POINT\s*{_Q}\s*A\s*{_Q}", '"A" ITEM NOTE'),
    (rf"{_Q}?I/A{_Q}?-PUNKT-VERMERK", '"I/A" ITEM NOTE'),
    (rf"{_Q}?I{_Q}?-PUNKT-VERMERK", '"I" ITEM NOTE'),
    (rf"{_Q}?A{_Q}?-PUNKT-VERMERK", '"A" ITEM NOTE'),
    (r"NOTICE\s+OF\s+MEETING\s+AND\s+PROVISIONAL\s+AGENDA", "NOTICE OF MEETING AND PROVISIONAL AGENDA"),
    (r"CONVOCATION\s+ET\s+ORDRE\s+DU\s+JOUR\s+PROVISOIRE", "NOTICE OF MEETING AND PROVISIONAL AGENDA"),
    (r"EINLADUNG\s+UND\s+VORLÄUFIGE\s+TAGESORDNUNG", "NOTICE OF MEETING AND PROVISIONAL AGENDA"),
    (r"PROVISIONAL\s+AGENDA", "PROVISIONAL AGENDA"),
    (r"ORDRE\s+DU\s+JOUR\s+PROVISOIRE", "PROVISIONAL AGENDA"),
    (r"VORLÄUFIGE\s+TAGESORDNUNG", "PROVISIONAL AGENDA"),
    (r"COVER\s+NOTE", "COVER NOTE"),
    (r"NOTE\s+DE\s+TRANSMISSION", "COVER NOTE"),
    (r"ÜBERMITTLUNGSVERMERK", "COVER NOTE"),
    (r"INFORMATION\s+NOTE", "INFORMATION NOTE"),
    (r"NOTE\s+D['’]INFORMATION", "INFORMATION NOTE"),
    (r"INFORMATORISCHER\s+VERMERK", "INFORMATION NOTE"),
    (r"OUTCOME\s+OF\s+PROCEEDINGS", "OUTCOME OF PROCEEDINGS"),
    (r"RESULTS\s+OF\s+PROCEEDINGS", "OUTCOME OF PROCEEDINGS"),
    (r"RÉSULTATS\s+DES\s+TRAVAUX", "OUTCOME OF PROCEEDINGS"),
    (r"BERATUNGSERGEBNISSE", "OUTCOME OF PROCEEDINGS"),
    (r"SUMMARY\s+RECORD", "SUMMARY RECORD"),
    (r"COMPTE\s+RENDU\s+SOMMAIRE", "SUMMARY RECORD"),
    (r"COMPTE\s+RENDU", "SUMMARY RECORD"),
    (r"KURZPROTOKOLL", "SUMMARY RECORD"),
    (r"OUTCOME\s+OF\s+THE\s+COUNCIL\s+MEETING", "OUTCOME OF THE COUNCIL MEETING"),
    (r"LEGISLATIVE\s+ACTS\s+AND\s+OTHER\s+INSTRUMENTS", "LEGISLATIVE ACTS AND OTHER INSTRUMENTS"),
    (r"DRAFT\s+MINUTES", "DRAFT MINUTES"),
    (r"PROJET\s+DE\s+PROCÈS-VERBAL", "DRAFT MINUTES"),
    (r"REPORT", "REPORT"),
    (r"RAPPORT", "REPORT"),
    (r"BERICHT", "REPORT"),
    (r"OPINION", "OPINION"),
    (r"AVIS", "OPINION"),
    (r"STELLUNGNAHME", "OPINION"),
    (r"LETTER", "LETTER"),
    (r"LETTRE", "LETTER"),
    (r"SCHREIBEN", "LETTER"),
    (r"INFORMATION", "INFORMATION"),
    (r"NOTE", "NOTE"),
    (r"VERMERK", "NOTE"),
)
TYPE = re.compile(r"(?<![\w\-/])(?:" + "|".join(f"(?P<t{i}>{p})" for i, (p, _) in enumerate(TYPES)) + r")(?![\w\-/])")
# Types whose title is composed from the type, the meeting body and the meeting dates.
COMPOSED_TYPES = frozenset({"SUMMARY RECORD", "PROVISIONAL AGENDA", "NOTICE OF MEETING AND PROVISIONAL AGENDA"})
# How a printed type reads at the start of a composed title.
TYPE_DISPLAY = {
    "SUMMARY RECORD": "Summary record",
    "COMPTE RENDU SOMMAIRE": "Compte rendu sommaire",
    "COMPTE RENDU": "Compte rendu",
    "KURZPROTOKOLL": "Kurzprotokoll",
    "PROVISIONAL AGENDA": "Provisional agenda",
    "ORDRE DU JOUR PROVISOIRE": "Ordre du jour provisoire",
    "VORLÄUFIGE TAGESORDNUNG": "Vorläufige Tagesordnung",
    "NOTICE OF MEETING AND PROVISIONAL AGENDA": "Notice of meeting and provisional agenda",
    "CONVOCATION ET ORDRE DU JOUR PROVISOIRE": "Convocation et ordre du jour provisoire",
    "EINLADUNG UND VORLÄUFIGE TAGESORDNUNG": "Einladung und vorläufige Tagesordnung",
}

# Field labels (key, pattern). Other documents' reference lists are PREV, PROP and CION.
FROM, RECEIPT, TO, ON, PREV, PROP, CION, SUBJECT = "from", "receipt", "to", "on", "prev", "prop", "cion", "subject"
MEETING_DATE, OTHER = "date", "other"
LABELS: tuple[tuple[str, str], ...] = (
    (RECEIPT, r"[Dd]ate\s+of\s+receipt|[Dd]ate\s+de\s+réception|Eingangsdatum"),
    (PREV, r"No\.?\s*prev\.\s*doc\.|N°\s*doc\.\s*préc\.|Nr\.\s*Vordok\."),
    (PROP, r"No\.?\s*Cion\s*prop\.|N°\s*prop\.\s*Cion\.?|Nr\.\s*Komm\.\s*vorschl\."),
    (CION, r"No\.?\s*Cion\s*doc\.|N°\s*doc\.\s*Cion\.?|Nr\.\s*Komm\.\s*dok\."),
    (FROM, r"From|from|Origine|origine|Absender|Expéditeur"),
    (TO, r"To|to|Destinataires?|destinataires?|Empfänger"),
    (ON, r"On|on"),
    (SUBJECT, r"Subject|subject|Objet|objet|Betr\.|Betreff|Betrifft"),
    (MEETING_DATE, r"Date|Datum"),
    (OTHER, r"Contact|Kontakt|Tel\./Fax|Tél\./Fax|Tel\.|Tél\.|Time|Heure|Zeit|Venue|Lieu|Ort"),
)
LABEL = re.compile(r"(?<![\w.°/])(?:" + "|".join(f"(?P<{k}_{i}>{p})" for i, (k, p) in enumerate(LABELS)) + r")[ \t]*:")
LIST_KEYS = frozenset({PREV, PROP, CION})
FILES_LABEL = re.compile(
    r"Interinstitutional\s+Files?|Dossiers?\s+interinstitutionnels?|"
    r"Interinstitutionelles?\s+Dossiers?\s*:?"
)
PROCEDURE = re.compile(r"\b((?:19|20)\d\d)/(\d{4})[ \t]*\([ \t]*([A-Z]{3})[ \t]*\)")
COMMISSION_DOC = re.compile(r"\b(?:COM|SWD|JOIN|C)[ \t]*\((?:19|20)\d\d\)[ \t]*\d{1,5}(?:[ \t]+final)?\b")
MARKINGS = ("RESTREINT UE/EU RESTRICTED", "CONFIDENTIEL UE/EU CONFIDENTIAL", "SECRET UE/EU SECRET", "LIMITE")
MARKING = re.compile(r"(?<![\w/])(?:" + "|".join(re.escape(m).replace(r"\ ", r"\s+") for m in MARKINGS) + r")(?![\w/])")
LANGUAGE = re.compile(r"\(OR\.\s*([a-z]{2})\b", re.IGNORECASE)

# Distribution codes: any upper-case word with a running number inside the codes block; without a number only
# these. Two-word codes are listed whole.
KNOWN_CODES = frozenset(
    {
        "MIGR",
        "FRONT",
        "COMIX",
        "SIRIS",
        "ASIM",
        "RELEX",
        "CODEC",
        "JAI",
        "JAIEX",
        "COASI",
        "ASILE",
        "ENFOPOL",
        "CRIMORG",
        "IXIM",
        "VISA",
        "SCHENGEN",
        "COSI",
        "CSC",
        "EURODAC",
        "ENFOCUSTOM",
        "GENVAL",
        "DAPIX",
        "FREMP",
        "CATS",
        "COPEN",
        "DROIPEN",
        "JUSTCIV",
        "EJUSTICE",
        "PROCIV",
        "AUS",
        "USA",
        "IA",
        "CT",
        "CYBER",
        "COTER",
        "COPS",
        "CFSP",
        "PESC",
        "POLGEN",
        "INST",
        "ECOFIN",
        "EF",
        "AGRILEG",
        "VETER",
        "COEST",
        "ENV",
        "TRANS",
        "TELECOM",
        "DATAPROTECT",
        "CORLX",
    }
)
MULTIWORD_CODES = frozenset({"CRS CRP", "OJ CONS", "OJ CRP1", "OJ CRP2", "CRS CRP1", "CRS CRP2"})
NOT_CODES = frozenset(
    {
        "REV",
        "ADD",
        "COR",
        "EXT",
        "INIT",
        "OR",
        "LIMITE",
        "UE",
        "EU",
        "EN",
        "FR",
        "DE",
        "DG",
        "ST",
        "WK",
        "CM",
        "PE",
        "SN",
        "NOTE",
        "PART",
        "PARTIE",
        "TEIL",
        "GP",
    }
)
CODE_WORD = re.compile(r"[A-Z]{2,12}")
NUMBER = re.compile(r"\d{1,5}")

# Single-line layouts print the sender and the recipient with nothing between them: these are recognised whole.
SENDERS = (
    "General Secretariat of the Council",
    "General Secretariat",
    "Presidency",
    "European Commission",
    "Commission",
    "Council Legal Service",
    "Legal Service",
    "Secrétariat général du Conseil",
    "Secrétariat général",
    "la présidence",
    "La présidence",
    "Présidence",
    "présidence",
    "Commission européenne",
    "Service juridique",
    "Generalsekretariat des Rates",
    "Generalsekretariat",
    "Vorsitz",
    "Europäische Kommission",
    "Juristischer Dienst",
)
RECIPIENTS = (
    "Permanent Representatives Committee",
    "Delegations",
    "Council",
    "Comité des représentants permanents",
    "délégations",
    "Délégations",
    "Conseil",
    "Ausschuss der Ständigen Vertreter",
    "Delegationen",
    "Rat",
)
RECIPIENT_TAIL = re.compile(
    r"(?:[ \t]*\((?:Part|Partie|Teil)[^()]{0,12}\)|[ \t]*\(\d\.[ \t]*Teil\)|"
    r"/(?:Council|Conseil|Rat)\b)*"
)
# Words a subject commonly starts with: in a single-line layout they end the recipient.
SUBJECT_OPENERS = re.compile(
    r"(?<!\S)(?:Proposal\s+for|Amended\s+proposal|Draft\s+|Proposition\s+de|Projet\s+de|Vorschlag\s+für|"
    r"Entwurf\s+|Geänderter\s+Vorschlag)"
)
# Where the body starts after a subject: at the start of a line, or anywhere in a single-line layout.
BODY_LINE = re.compile(
    r"(?:Delegations\s+will\s+find|Delegations\s+are|Les\s+délégations\s+trouveront|Die\s+Delegationen\s+erhalten|"
    r"Building\s+(?:up)?on\b|This\s+document\b|Le\s+présent\s+document\b|Dieses\s+Dokument\b|Concerns\b|"
    r"Concerne\b|Betrifft\s+nur\b|Encl\.|p\.\s?j\.|Anl\.|\[\.\.\.\]|\[…\]|[IVX]{1,4}\.\s+[A-Z]|"
    rf"\d{{1,2}}\.\s+(?!{MONTH}\b)|"
    r"(?:Introduction|INTRODUCTION|Einleitung|Einführung|Background|Contexte|CORRIGENDUM)\s*$)"
)
BODY_INLINE = re.compile(
    r"\s(?:Delegations\s+will\s+find|Les\s+délégations\s+trouveront|Die\s+Delegationen\s+erhalten|"
    r"Building\s+(?:up)?on\s|Encl\.:|p\.j\.:|Anl\.:|\[\.\.\.\]|\[…\]|"
    rf"\d{{1,2}}\.\s+(?!{MONTH}\b)[A-ZÄÖÜÉ])"
)
# A page footer: the reference (or what is left of it) and the author's initials, "5907/21 bhw/KWO/ab 1".
FOOTER = re.compile(
    r"(?:^|\s)(?:\d{1,6})?(?:/\d{1,2})?/\d{2}(?:\s+(?:REV|ADD|COR)\s+\d{1,3})*\s+"
    r"[A-Za-z]{1,4}(?:[,/][ \t]?[A-Za-z]{1,4})*/[a-z]{1,4}\b"
)
# Old German layout: the sender and recipient after prepositions instead of labels.
OLD_DE_SENDER = re.compile(r"^des[ \t]+(\S.*)$")
OLD_DE_RECIPIENT = re.compile(r"^für[ \t]+(?:den|die|das)[ \t]+(\S.*)$")
# Lower-case words kept so in a composed title's body name ("Comité des Représentants ...").
SMALL_WORDS = frozenset(
    {
        "of",
        "the",
        "and",
        "on",
        "for",
        "in",
        "to",
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "et",
        "l",
        "d",
        "der",
        "die",
        "das",
        "und",
        "für",
        "im",
        "am",
        "zur",
        "zum",
    }
)
