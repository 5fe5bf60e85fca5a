"""Issue 23: an answer to an approval request, as the principal's own mail client writes it.

Each layout below is how a real client lays out a reply — its quote header (in its languages, as the client words
and dates it), its way of quoting (``>`` lines, our request copied without ``>`` under an Outlook header block, HTML
containers), where the cursor starts (above or below the quote) and the signature it adds. Each is answered with a
clear approval, a rejection with a reason, an unclear answer and a conditional one. Every clear answer must be read
right, every other one must be no decision, and a rejection's comment must be the principal's words alone.
"""
from __future__ import annotations

import html
from collections.abc import Callable

import pytest

from assistant.approvals.outgoing import DRAFT_BEGINS, DRAFT_ENDS, REPLY_ABOVE, REQUEST_ENDS
from assistant.approvals.replies import parse_reply

REF = "APR-Qm9vbGVhbkZhbHNlMTIzNDU2Nzg5"
REQUEST = (
    f"{REPLY_ABOVE}\n\nYour assistant drafted this message and asks for your approval (version 1).\n\n"
    "Reply with one of:\n  approve\n  reject: <what to change>\n"
    "  edit: <the text to send instead, on the following lines>\n\n"
    f"To: Bob Stone <bob@example.org>\nSubject: Lease renewal\n\n{DRAFT_BEGINS}\nDear Bob,\n"
    f"I approve of the new terms; reject the old clause.\nAnn\n{DRAFT_ENDS}\n\nReference: {REF}\n{REQUEST_ENDS}"
)

# -- how each client quotes, in the languages principals write in ----------------------------------------------------
GMAIL_ATTRIBUTIONS = {
    "en": "On Mon, Dec 7, 2026 at 10:00 AM Ann Lee <ann@example.com> wrote:",
    "fr": "Le lun. 7 déc. 2026 à 10:00, Ann Lee <ann@example.com> a écrit :",
    "de": "Am Mo., 7. Dez. 2026 um 10:00 Uhr schrieb Ann Lee <ann@example.com>:",
    "es": "El lun, 7 dic 2026 a las 10:00, Ann Lee (<ann@example.com>) escribió:",
    "pt": "Em seg., 7 de dez. de 2026 às 10:00, Ann Lee <ann@example.com> escreveu:",
    "it": "Il giorno lun 7 dic 2026 alle ore 10:00 Ann Lee <ann@example.com> ha scritto:",
    "nl": "Op ma 7 dec 2026 om 10:00 schreef Ann Lee <ann@example.com>:",
    "sv": "Den mån 7 dec. 2026 kl 10:00 skrev Ann Lee <ann@example.com>:",
    "da": "man. 7. dec. 2026 kl. 10.00 skrev Ann Lee <ann@example.com>:",
    "no": "man. 7. des. 2026 kl. 10:00 skrev Ann Lee <ann@example.com>:",
    "fi": "ma 7.12.2026 klo 10.00 Ann Lee (ann@example.com) kirjoitti:",
    "pl": "pon., 7 gru 2026 o 10:00 Ann Lee <ann@example.com> napisał(a):",
    "ru": "пн, 7 дек. 2026 г. в 10:00, Ann Lee <ann@example.com>:",
    "ja": "2026年12月7日(月) 10:00 Ann Lee <ann@example.com>:",
    "zh": "Ann Lee <ann@example.com> 于2026年12月7日周一 10:00写道：",
}
OUTLOOK_BLOCKS = {
    "en": "From: Ann Lee <ann@example.com>\nSent: Monday, December 7, 2026 10:00 AM\nTo: Ann Lee <ann@example.com>\n"
          "Subject: Approval needed",
    "en-2010": "-----Original Message-----\nFrom: Ann Lee [mailto:ann@example.com]\nSent: Monday, December 07, 2026 "
               "10:00 AM\nTo: Ann Lee\nSubject: Approval needed",
    "en-express": "----- Original Message -----\nFrom: Ann Lee\nTo: ann@example.com\nSent: Monday, December 07, 2026 "
                  "10:00 AM\nSubject: Approval needed",
    "de": "-----Ursprüngliche Nachricht-----\nVon: Ann Lee <ann@example.com>\nGesendet: Montag, 7. Dezember 2026 10:00"
          "\nAn: Ann Lee <ann@example.com>\nBetreff: Approval needed",
    "fr": "-------- Message d'origine --------\nDe : Ann Lee <ann@example.com>\nEnvoyé : lundi 7 décembre 2026 10:00\n"
          "À : Ann Lee <ann@example.com>\nObjet : Approval needed",
    "es": "De: Ann Lee <ann@example.com>\nEnviado: lunes, 7 de diciembre de 2026 10:00\nPara: Ann Lee\n"
          "Asunto: Approval needed",
    "pt": "De: Ann Lee <ann@example.com>\nEnviada em: segunda-feira, 7 de dezembro de 2026 10:00\nPara: Ann Lee\n"
          "Assunto: Approval needed",
    "it": "Da: Ann Lee <ann@example.com>\nInviato: lunedì 7 dicembre 2026 10:00\nA: Ann Lee\nOggetto: Approval needed",
    "nl": "Van: Ann Lee <ann@example.com>\nVerzonden: maandag 7 december 2026 10:00\nAan: Ann Lee\n"
          "Onderwerp: Approval needed",
    "sv": "Från: Ann Lee <ann@example.com>\nSkickat: den 7 december 2026 10:00\nTill: Ann Lee\nÄmne: Approval needed",
    "da": "Fra: Ann Lee <ann@example.com>\nDato: 7. december 2026 kl. 10.00\nTil: Ann Lee\nEmne: Approval needed",
    "no": "Fra: Ann Lee <ann@example.com>\nSendt: mandag 7. desember 2026 10:00\nTil: Ann Lee\nEmne: Approval needed",
    "fi": "Lähettäjä: Ann Lee <ann@example.com>\nLähetetty: maanantai 7. joulukuuta 2026 10.00\nVastaanottaja: Ann Lee"
          "\nAihe: Approval needed",
    "pl": "Od: Ann Lee <ann@example.com>\nWysłano: poniedziałek, 7 grudnia 2026 10:00\nDo: Ann Lee\n"
          "Temat: Approval needed",
    "ru": "От: Ann Lee <ann@example.com>\nОтправлено: 7 декабря 2026 г. 10:00\nКому: Ann Lee\nТема: Approval needed",
    "ja": "差出人: Ann Lee <ann@example.com>\n送信日時: 2026年12月7日 10:00\n宛先: Ann Lee\n件名: Approval needed",
    "zh": "发件人: Ann Lee <ann@example.com>\n发送时间: 2026年12月7日 10:00\n收件人: Ann Lee\n主题: Approval needed",
    "on-behalf": "From: Ann Lee <ann@example.com> On Behalf Of Sam Assistant\nSent: Monday, December 7, 2026 10:00 AM"
                 "\nTo: Ann Lee <ann@example.com>\nSubject: Approval needed",
    "gmail-bold": "---------- Forwarded message ---------\n*From:* Ann Lee <ann@example.com>\n*Date:* Mon, Dec 7, 2026"
                  "\n*Subject:* Approval needed\n*To:* Ann Lee <ann@example.com>",
}


def quoted(text: str, prefix: str = "> ") -> str:
    return "\n".join(prefix + line if line else prefix.rstrip() for line in text.split("\n"))


def top(answer: str, header: str, sig: str = "") -> str:  # the cursor above the quote (most clients)
    return f"{answer}\n\n{sig + chr(10) * 2 if sig else ''}{header}\n\n{quoted(REQUEST)}\n"


def bottom(answer: str, header: str, sig: str = "") -> str:  # Thunderbird's default: below the quote
    return f"{header}\n{quoted(REQUEST)}\n\n{answer}\n\n{sig}\n"


def outlook(answer: str, block: str, sig: str = "") -> str:  # the request copied whole, unquoted, under a block
    return f"{answer}\n\n{sig + chr(10) * 2 if sig else ''}{block}\n\n{REQUEST}\n"


TEXT_LAYOUTS: dict[str, Callable[[str], str]] = {
    **{f"gmail-{lang}": (lambda a, h=h: top(a, h)) for lang, h in GMAIL_ATTRIBUTIONS.items()},
    **{f"outlook-{lang}": (lambda a, b=b: outlook(a, b)) for lang, b in OUTLOOK_BLOCKS.items()},
    "gmail-wrapped-2": lambda a: top(a, "On Mon, Dec 7, 2026 at 10:00 AM Ann Lee-Smith <\nann.lee-smith@example.com> "
                                        "wrote:"),
    "gmail-wrapped-3": lambda a: top(a, "On Mon, Dec 7, 2026 at 10:00 AM Ann Lee-Smith of Lee, Smith\nand Partners "
                                        "LLP <ann.lee-smith@lee-smith-and-partners.example>\nwrote:"),
    "gmail-android": lambda a: top(a, "On Mon, 7 Dec 2026, 10:00 Ann Lee, <ann@example.com> wrote:"),
    "thunderbird-bottom": lambda a: bottom(a, "On 07/12/2026 10:00, Ann Lee wrote:", "-- \nAnn Lee\nLee & Partners"),
    "thunderbird-bottom-de": lambda a: bottom(a, "Am 07.12.26 um 10:00 schrieb Ann Lee:", "-- \nAnn"),
    "thunderbird-bottom-it": lambda a: bottom(a, "In data 07/12/2026 10:00, Ann Lee ha scritto:"),
    "thunderbird-top": lambda a: top(a, "On 07/12/2026 10:00, Ann Lee wrote:"),
    "apple-mail": lambda a: top(a, "On 7 Dec 2026, at 10:00, Ann Lee <ann@example.com> wrote:"),
    "iphone": lambda a: f"{a}\n\nSent from my iPhone\n\n{quoted('On Dec 7, 2026, at 10:00 AM, Ann Lee <ann@example.com> wrote:' + chr(10) + chr(10) + REQUEST)}\n",
    "iphone-fr": lambda a: f"{a}\n\nEnvoyé de mon iPhone\n\n> Le 7 déc. 2026 à 10:00, Ann Lee <ann@example.com> a écrit :\n>\n{quoted(REQUEST)}\n",
    "iphone-de": lambda a: f"{a}\n\nVon meinem iPhone gesendet\n\n> Am 07.12.2026 um 10:00 schrieb Ann Lee <ann@example.com>:\n>\n{quoted(REQUEST)}\n",
    "outlook-ios": lambda a: outlook(a, "________________________________\n" + OUTLOOK_BLOCKS["en"],
                                     "Get Outlook for iOS<https://aka.ms/o0ukef>"),
    "outlook-ios-fr": lambda a: outlook(a, "________________________________\n" + OUTLOOK_BLOCKS["fr"].split("\n", 1)[1],
                                        "Envoyé à partir de Outlook pour iOS<https://aka.ms/o0ukef>"),
    "windows-mail": lambda a: outlook(a, "From: Ann Lee<mailto:ann@example.com>\nSent: Monday, December 7, 2026 10:00"
                                         "\nTo: Ann Lee<mailto:ann@example.com>\nSubject: Approval needed",
                                      "Sent from Mail<https://go.microsoft.com/fwlink/?LinkId=550986> for Windows 10"),
    "hotmail": lambda a: outlook(a, "________________________________\n" + OUTLOOK_BLOCKS["en"]),
    "yahoo": lambda a: f"{a}\n\n\n    On Monday, December 7, 2026, 10:00:00 AM EST, Ann Lee <ann@example.com> wrote:"
                       f"  \n \n {REQUEST}\n",
    "yahoo-classic": lambda a: top(a, "--- On Mon, 12/7/26, Ann Lee <ann@example.com> wrote:"),
    "yahoo-mobile": lambda a: outlook(a, "On Monday, December 7, 2026, 10:00 AM, Ann Lee <ann@example.com> wrote:",
                                      "Sent from Yahoo Mail on Android"),
    "aol": lambda a: outlook(a, "-----Original Message-----\nFrom: Ann Lee <ann@example.com>\nTo: Ann Lee <ann@example."
                                "com>\nSent: Mon, Dec 7, 2026 10:00 am\nSubject: Approval needed"),
    "samsung": lambda a: outlook(a, "-------- Original message --------\nFrom: Ann Lee <ann@example.com> \nDate: "
                                    "07/12/2026 10:00 (GMT-05:00) \nTo: Ann Lee <ann@example.com> \nSubject: Approval "
                                    "needed ", "Sent from my Samsung Galaxy smartphone."),
    "android-k9": lambda a: outlook(a, "---- Ann Lee wrote ----"),
    "zimbra-fr": lambda a: top(a, "- Le 7 déc. 26, à 10:00, Ann Lee ann@example.com a écrit :"),
    "zimbra-block": lambda a: outlook(a, "----- Mail original -----\nDe: \"Ann Lee\" <ann@example.com>\nÀ: \"Ann Lee\" "
                                         "<ann@example.com>\nEnvoyé: Lundi 7 Décembre 2026 10:00:00\nObjet: Approval "
                                         "needed"),
    "mail-ru": lambda a: f"{a}\n\n--\nAnn Lee\nОтправлено из Почты Mail.ru\n\n\n>Понедельник, 7 декабря 2026, 10:00 "
                         f"+03:00 от Ann Lee <ann@example.com>:\n>\n{quoted(REQUEST)}\n",
    "yandex": lambda a: top(a, "07.12.2026, 10:00, \"Ann Lee\" <ann@example.com>:"),
    "inline": lambda a: f"{GMAIL_ATTRIBUTIONS['en']}\n{quoted(REQUEST.split(DRAFT_BEGINS)[0])}\n\n{a}\n\n"
                        f"{quoted(DRAFT_BEGINS + REQUEST.split(DRAFT_BEGINS)[1])}\n",
}


def gmail_html(answer: str) -> str:
    return (f'<div dir="ltr">{html.escape(answer).replace(chr(10), "<br>")}</div><br><div class="gmail_quote">'
            f'<div dir="ltr" class="gmail_attr">{html.escape(GMAIL_ATTRIBUTIONS["en"])}<br></div>'
            f'<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">'
            f'{html.escape(REQUEST).replace(chr(10), "<br>")}</blockquote></div>'
            '<div class="gmail_signature">Ann Lee<br>Lee &amp; Partners</div>')


def outlook_html(answer: str) -> str:
    return (f'<html><head><style>p {{margin:0}}</style></head><body><div style="font-family:Calibri">'
            f'{html.escape(answer).replace(chr(10), "<br>")}</div><div id="Signature"><p>Ann Lee | Partner</p></div>'
            '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
            '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri"><b>From:</b> Ann Lee &lt;ann@example.com&gt; On '
            'Behalf Of Sam<br><b>Sent:</b> Monday, December 7, 2026 10:00 AM<br><b>Subject:</b> Approval needed</font>'
            f'</div><div>{html.escape(REQUEST).replace(chr(10), "<br>")}</div></body></html>')


def thunderbird_html(answer: str) -> str:  # bottom-posted
    return ('<html><body><div class="moz-cite-prefix">On 07/12/2026 10:00, Ann Lee wrote:<br></div>'
            f'<blockquote type="cite" cite="mid:approval-ask-1@example.com"><pre>{html.escape(REQUEST)}</pre>'
            f'</blockquote><p>{html.escape(answer).replace(chr(10), "<br>")}</p><pre class="moz-signature" '
            'cols="72">-- \nAnn Lee</pre></body></html>')


def apple_html(answer: str) -> str:
    return (f'<html><body dir="auto"><div dir="ltr">{html.escape(answer).replace(chr(10), "<br>")}</div>'
            '<div dir="ltr"><br><blockquote type="cite">On 7 Dec 2026, at 10:00, Ann Lee &lt;ann@example.com&gt; '
            f'wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">'
            f'{html.escape(REQUEST).replace(chr(10), "<br>")}</div></blockquote></body></html>')


def yahoo_html(answer: str) -> str:
    return (f'<html><body><div class="ydp1"><div>{html.escape(answer).replace(chr(10), "<br>")}</div></div>'
            '<div id="yahoo_quoted_1" class="yahoo_quoted"><div>On Monday, December 7, 2026, 10:00:00 AM EST, Ann '
            f'Lee &lt;ann@example.com&gt; wrote:</div><div><br></div><div>'
            f'{html.escape(REQUEST).replace(chr(10), "<br>")}</div></div></body></html>')


HTML_LAYOUTS: dict[str, Callable[[str], str]] = {
    "gmail-html": gmail_html, "outlook-html": outlook_html, "thunderbird-html": thunderbird_html,
    "apple-html": apple_html, "yahoo-html": yahoo_html,
}

APPROVALS = ["Approved", "Approved, thanks!", "approve"]
NATIVE_APPROVALS = {"fr": "Approuvé", "de": "Genehmigt", "es": "Aprobado", "pt": "Aprovado", "it": "Approvato",
                    "nl": "Goedgekeurd", "sv": "Godkänd", "da": "Godkendt", "no": "Godkjent", "fi": "Hyväksytty",
                    "pl": "Zatwierdzam", "ru": "Одобряю", "ja": "承認します", "zh": "批准"}
UNCLEAR = ["Can we talk about this tomorrow?", "Hmm, not sure about the second paragraph."]
CONDITIONAL = ["Approve after legal has signed off", "Approved, but only once legal has signed off.",
               "Approved.\nWait for Bob's call first though."]


@pytest.mark.parametrize("layout", sorted(TEXT_LAYOUTS))
def test_a_clear_approval_is_read_in_every_text_layout(layout):
    for answer in APPROVALS:
        body = TEXT_LAYOUTS[layout](answer)
        assert parse_reply(body, short_forms=False).kind == "approve", (answer, body)


@pytest.mark.parametrize("layout", sorted(TEXT_LAYOUTS))
def test_a_rejection_keeps_only_the_principals_words(layout):
    body = TEXT_LAYOUTS[layout]("reject: too formal")
    answer = parse_reply(body, short_forms=False)
    assert (answer.kind, answer.comment) == ("reject", "too formal"), body
    body = TEXT_LAYOUTS[layout]("Reject - too formal.\nPlease use first names.")
    answer = parse_reply(body, short_forms=False)
    assert (answer.kind, answer.comment) == ("reject", "too formal.\nPlease use first names."), body


@pytest.mark.parametrize("layout", sorted(TEXT_LAYOUTS))
def test_unclear_and_conditional_answers_are_no_decision(layout):
    for answer in UNCLEAR + CONDITIONAL:
        body = TEXT_LAYOUTS[layout](answer)
        assert parse_reply(body, short_forms=True).kind == "unknown", (answer, body)


@pytest.mark.parametrize("lang", sorted(NATIVE_APPROVALS))
def test_an_approval_in_the_principals_language_under_their_clients_header(lang):
    for header in (GMAIL_ATTRIBUTIONS.get(lang), OUTLOOK_BLOCKS.get(lang)):
        if header is not None:
            layout = top if header in GMAIL_ATTRIBUTIONS.values() else outlook
            assert parse_reply(layout(NATIVE_APPROVALS[lang], header), short_forms=False).kind == "approve", header


@pytest.mark.parametrize("layout", sorted(HTML_LAYOUTS))
def test_html_parts_are_read_by_their_structure(layout):
    make = HTML_LAYOUTS[layout]
    assert parse_reply("", html=make("Approved"), short_forms=False).kind == "approve"
    answer = parse_reply("", html=make("reject: too formal"), short_forms=False)
    assert (answer.kind, answer.comment) == ("reject", "too formal")
    for unclear in UNCLEAR + CONDITIONAL:
        assert parse_reply("", html=make(unclear), short_forms=True).kind == "unknown", unclear


def test_answers_in_two_places_that_disagree_are_flagged_not_guessed():
    body = f"Approved\n\n{GMAIL_ATTRIBUTIONS['en']}\n{quoted(REQUEST)}\n\nreject: too formal\n"
    answer = parse_reply(body, short_forms=False)
    assert answer.kind == "unknown" and answer.conflict
    same = f"Approved\n\n{GMAIL_ATTRIBUTIONS['en']}\n{quoted(REQUEST)}\n\nApproved\n"
    assert parse_reply(same, short_forms=False).kind == "approve"


def test_a_text_part_and_an_html_part_that_disagree_are_flagged():
    answer = parse_reply(TEXT_LAYOUTS["gmail-en"]("Approved"), html=gmail_html("reject: too formal"),
                         short_forms=False)
    assert answer.kind == "unknown" and answer.conflict


def test_the_quoted_request_never_decides():
    for layout in ("outlook-en", "hotmail", "yahoo", "android-k9"):
        assert parse_reply(TEXT_LAYOUTS[layout](""), short_forms=True).kind == "unknown", layout
    assert parse_reply(REQUEST, short_forms=True).kind == "unknown"


def test_a_huge_reply_is_read_in_bounded_work():
    body = "Approved\n\n" + quoted(REQUEST) + "\n" + ("> x\n" * 2_000_000)
    assert parse_reply(body, short_forms=False).kind == "approve"
    assert parse_reply("", html="<div>" * 200_000 + "Approved", short_forms=False).kind in ("approve", "unknown")
