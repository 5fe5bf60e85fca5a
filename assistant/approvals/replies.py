"""Reading a principal's e-mailed answer to an approval request, whatever mail client wrote it.

**Where the principal's own words are.** A reply is cut into the principal's words and the rest, by structure first:
``>`` lines (any depth), the HTML containers clients quote in (``blockquote``, Gmail's ``gmail_quote``, Yahoo's
``yahoo_quoted``, Outlook's ``divRplyFwdMsg``/``appendonsend``, after which everything is history), our own request
copied without ``>`` (from a quote header, or our "Reply above this line" marker, down to the request's last line), and
signatures (``-- ``, Gmail's and Thunderbird's signature blocks); then by language patterns: attribution lines
("On … wrote:", "Le … a écrit :", "Am … schrieb …:", "In data … ha scritto:", "Em … escreveu:", "El … escribió:",
"Op … schreef …:", "… skrev …:", "… kirjoitti:", "… napisał(a):", "… написал(а):", Gmail's "…, Name <addr>:" of
Russian and Japanese, "… 写道：", Yahoo's "--- On … wrote:", Zimbra's "- Le … a écrit :", Android's "---- Name wrote
----"), wrapped over up to three lines; Outlook blocks ("-----Original Message-----", "----- Original Message -----",
"-----Ursprüngliche Nachricht-----", "-------- Message d'origine --------" and their kin in other languages, and a
"From:/Sent:" header block in English, French, German, Spanish, Portuguese, Italian, Dutch, the Nordic languages,
Finnish, Polish, Russian, Japanese and Chinese, bold ``*From:*`` and "On Behalf Of" included); and client signatures
("Sent from my iPhone", "Envoyé de mon iPhone", "Von meinem iPhone gesendet", "Get Outlook for iOS", "Envoyé à partir
de Outlook pour iOS", "Sent from Mail for Windows", …). What remains may sit above the quote, below it (bottom-posting)
or between quoted parts (inline): each stretch is read on its own. Answers in two places that disagree are not a
decision.

**What is accepted** (the first line of a stretch of the principal's words; case, accents and trailing punctuation
ignored):

- **approve** — ``approve``, ``approved``, ``I approve``, and the same in French, Spanish, Portuguese, German, Italian,
  Dutch and the Nordic languages (``approuvé``, ``aprobado``, ``aprovado``, ``genehmigt``, ``freigegeben``,
  ``approvato``, ``goedgekeurd``, ``godkänd``…), optionally followed by thanks (``approve, thanks``). An approval with
  a condition anywhere in the principal's words ("but", "only after", "unless", "sauf", "aber", "pero", …) is not one.
- **reject** — ``reject: reason`` (also ``reject - reason``, ``rejected: …``, ``decline: …``, ``rejeter : …``,
  ``refusé: …``, ``rechazar: …``, ``ablehnen: …``). The reason may continue on the following lines; it is stored as the
  principal wrote it, without quoted history or signature.
- **edit** — ``edit:`` (``edited:``, ``modifier :``, ``editar:``, ``ändern:``) followed by the text to send instead, on
  the same and/or the following lines; or the reply keeps the ``----- draft begins -----`` / ``----- draft ends -----``
  lines unquoted with the changed text between them. The principal's text is approved as it stands.
- **short forms** — only when the principal's settings allow them: ``yes``, ``y``, ``ok``, ``okay``, ``sure``,
  ``go ahead``, ``send it``, 👍 (any skin tone), ✅, ``oui``, ``d'accord``, ``sí``/``si``, ``ja``, ``sì``, ``da``,
  ``tak``, ``はい`` as approval; ``no``, ``non``, ``nein``, 👎 as rejection without a reason.

Anything else is *not* a decision: the reply is flagged for the assistant and nothing happens.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser

from assistant.approvals.outgoing import DRAFT_BEGINS, DRAFT_ENDS, REPLY_ABOVE, REQUEST_ENDS


@dataclass
class ReplyDecision:
    kind: str  # approve, reject, edit, unknown
    comment: str = ""
    body: str = ""
    short_form: bool = False
    conflict: bool = False  # answers in two places of the reply that disagree


APPROVE = {
    "approve", "approved", "i approve", "approve it", "approved thanks", "approve thanks", "approve thank you",
    "approuve", "approuvé", "j'approuve", "approuver", "validé", "valide",
    "aprobado", "apruebo", "aprobar", "aprovado", "aprovo", "aprovar",
    "genehmigt", "genehmige", "freigegeben", "freigabe",
    "approvato", "approvo", "goedgekeurd", "akkoord", "godkänd", "godkjent", "godkendt", "hyväksytty",
    "hyväksyn", "zatwierdzam", "zatwierdzone", "zatwierdzony", "akceptuję", "akceptuje", "одобряю", "одобрено",
    "утверждаю", "согласовано", "schváleno", "schvaluji", "onaylandı", "onaylıyorum",
    "承認", "承認します", "批准", "同意", "核准",
}
THANKS = r"(thanks|thank you|thx|merci|gracias|obrigad[oa]|danke|grazie|bedankt|tack|takk)"
SHORT_APPROVE = {
    "yes", "y", "ok", "okay", "k", "sure", "go ahead", "send it", "send", "yes please", "fine",
    "oui", "d'accord", "ok merci", "sí", "si", "vale", "sim", "ja", "jawohl", "jep", "sì", "da", "tak", "はい",
    "好", "是", "\U0001f44d", "\u2705", "\u2714",
}
SHORT_REJECT = {"no", "nope", "non", "nein", "\U0001f44e", "\u274c"}
REJECT_WORDS = (
    r"reject(?:ed)?|declined?|refused?|reje(?:ter|té|te)|refus(?:er|é|e)|rechaza(?:r|do)?|rechazo|ablehnen|abgelehnt|"
    r"rifiut(?:ato|o)|afgewezen|avslå(?:tt)?|no"
)
_REJECT = re.compile(rf"^(?:{REJECT_WORDS})\s*(?:[:\-–—,]\s*|\s+)(?P<reason>.+)$", re.IGNORECASE | re.DOTALL)
_REJECT_BARE = re.compile(rf"^(?:{REJECT_WORDS.replace('|no', '')})[.!]*$", re.IGNORECASE)
_EDIT = re.compile(
    r"^(?:edit(?:ed)?|modifi(?:er|é|e)|editar|editado|ändern|geändert|bearbeiten|modifica)\s*:\s*(?P<body>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_SKIN_TONES = re.compile("[\U0001f3fb-\U0001f3ff\ufe0f]")
MAX_CHARS = 200_000  # an answer is short; a huge body is read this far (the decision is at the top or the bottom)
_QUOTED = re.compile(r"^\s*>")
_VERBS = (r"wrote|writes|a écrit|a ecrit|escribió|escribio|escreveu|schrieb|ha scritto|schreef|skrev|kirjoitti|"
          r"napisał\(a\)|napisała|napisał|написал\(а\)|написала|написал|пишет|napsal\(a\)|napsal|írta|yazdı|写道|寫道")
_ATTRIBUTION_END = re.compile(rf"(?:(?:{_VERBS})\s*[:：]?|<[^<>\s]+@[^<>\s]+>\s*[:：]|\([^()\s]+@[^()\s]+\)\s*[:：])\s*$",
                              re.IGNORECASE)
_ATTRIBUTION_START = re.compile(
    r"^[-\s]*(?:on|le|el|em|am|il giorno|il|in data|op|den|på|w dniu|dnia|в|--- on)\b|\d{1,2}[:.]\d{2}|\d{4}年|"
    r"^\S+\s*<[^<>\s]+@", re.IGNORECASE)
_ANDROID = re.compile(rf"^-{{2,}}\s*.+?\s(?:{_VERBS})\s*-{{2,}}$", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"^[-_=*\s]*(?:original message|ursprüngliche nachricht|original-nachricht|message d'origine|message original|"
    r"mail original|mensaje original|messaggio originale|oorspronkelijk bericht|origineel bericht|"
    r"ursprungligt meddelande|oprindelig meddelelse|opprinnelig melding|alkuperäinen viesti|wiadomość oryginalna|"
    r"oryginalna wiadomość|исходное сообщение|mensagem original|původní zpráva|原始邮件|原始郵件|元のメッセージ|"
    r"forwarded message|weitergeleitete nachricht|message transféré)[-_=*\s]*$|^_{10,}\s*$", re.IGNORECASE)
_FROM = re.compile(
    r"^\*?\s*(?:from|de|von|da|van|från|fra|lähettäjä|od|от|差出人|发件人|寄件者|kimden|feladó|afzender)\s*\*?\s*[:：]",
    re.IGNORECASE)
_FIELD = re.compile(
    r"^\*?\s*(?:sent|date|to|cc|subject|envoyé|à|objet|enviado|enviada em|fecha|para|asunto|assunto|data|gesendet|"
    r"datum|an|betreff|inviato|oggetto|a|verzonden|aan|onderwerp|skickat|till|ämne|sendt|dato|til|emne|lähetetty|"
    r"vastaanottaja|aihe|päivämäärä|wysłano|do|temat|отправлено|дата|кому|тема|送信日時|宛先|件名|日付|发送时间|收件人|"
    r"主题|日期|寄件日期|收件者|主旨)\s*\*?\s*[:：]", re.IGNORECASE)
_CLIENT_SIGNATURES = (
    "sent from my", "sent from mail", "sent from outlook", "get outlook for", "sent from mail for windows", "sent from yahoo mail",
    "sent from aol", "sent from the all new aol", "sent from samsung", "sent via", "sent from zoho", "sent from proton",
    "envoyé de mon", "envoyé à partir de", "envoyé depuis", "télécharger outlook", "enviado desde mi", "enviado desde",
    "obtener outlook", "enviado do meu", "enviado de meu", "von meinem", "gesendet von", "outlook für ios",
    "inviato da", "inviato dal mio", "verstuurd vanaf", "verzonden vanaf", "skickat från", "sendt fra", "lähetetty",
    "wysłane z", "отправлено с", "отправлено из", "iphoneから送信", "発自我的", "发自我的", "從我的iphone傳送",
)
_CONDITION = re.compile(
    r"\b(?:but|only if|only after|after|once|unless|provided|as long as|wait|hold off|except|however|if|"
    r"mais|sauf|seulement si|après|attendez|si|aber|nur wenn|erst|sobald|außer|wenn|pero|solo si|después|excepto|"
    r"ma|solo se|dopo|tranne|se|mas|só se|depois|exceto|maar|alleen als|pas na|behalve|als|men|bara om|efter|utom|"
    r"om|mutta|vain jos|kun|paitsi|jos|ale|tylko jeśli|jeśli|oprócz|но|только|после|кроме|если|ただし|但是|但)\b",
    re.IGNORECASE)


def _clean(line: str) -> str:
    return line.strip().strip("*").strip()


def _header_len(lines: list[str], i: int) -> int:
    """How many lines of a quote header start at ``lines[i]`` (0: none)."""
    line = _clean(lines[i])
    if not line:
        return 0
    low = line.lower()
    if low == REPLY_ABOVE.lower().strip("- ") or line.strip("- ") == REPLY_ABOVE.strip("- ") \
            or _SEPARATOR.match(line) or _ANDROID.match(line):
        return 1
    if _FROM.match(line) and any(_FIELD.match(_clean(following)) for following in lines[i + 1:i + 5]):
        return 1
    if _ATTRIBUTION_END.search(line) and (_ATTRIBUTION_START.search(line) or len(line) < 200):
        return 1
    if not _ATTRIBUTION_START.search(line):
        return 0
    for extra in (1, 2):  # an attribution wrapped over two or three lines
        if i + extra >= len(lines) or _QUOTED.match(lines[i + extra]) or not lines[i + extra].strip():
            return 0
        last = _clean(lines[i + extra])
        if _ATTRIBUTION_START.match(last) and _ATTRIBUTION_END.search(last):
            return 0  # that line is a header of its own
        joined = " ".join(_clean(x) for x in lines[i:i + extra + 1])
        if _ATTRIBUTION_END.search(joined) and len(joined) < 300:
            return extra + 1
    return 0


def _request_end(lines: list[str], start: int) -> int:
    """The last line of our request copied without ``>`` from ``start``: its closing line, else the end."""
    for j in range(start, len(lines)):
        if REQUEST_ENDS[:30] in lines[j]:
            return j
    return len(lines) - 1


def _is_signature(line: str) -> bool:
    if line.rstrip() in ("--", "-- "):
        return True
    low = _clean(line).lower()
    return len(low) < 100 and low.startswith(_CLIENT_SIGNATURES)


def own_words(body: str) -> list[str]:
    """The stretches of a reply the principal wrote, top to bottom (quoted history, our request and signatures cut)."""
    lines = body[:MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kinds = _line_kinds(lines)
    stretches: list[str] = []
    current: list[str] = []
    for line, kind in zip(lines, kinds, strict=True):
        if kind == "own":
            current.append(line)
            continue
        if "\n".join(current).strip():
            stretches.append("\n".join(current).strip("\n"))
        current = []
    if "\n".join(current).strip():
        stretches.append("\n".join(current).strip("\n"))
    return [s.strip() for s in stretches]


def _line_kinds(lines: list[str]) -> list[str]:
    """Each line's part: "own" words, "quote" (quoted history, its headers, our request copied) or "signature"."""
    kinds = ["own"] * len(lines)
    i, in_signature = 0, False
    while i < len(lines):
        if _QUOTED.match(lines[i]):
            kinds[i], in_signature = "quote", False
            i += 1
            continue
        size = _header_len(lines, i)
        if size:
            following = i + size
            k = following
            while k < len(lines) and not lines[k].strip():
                k += 1
            end = following - 1 if k < len(lines) and _QUOTED.match(lines[k]) else _request_end(lines, following)
            for j in range(i, max(end, i + size - 1) + 1):
                kinds[j] = "quote"
            i, in_signature = max(end, i + size - 1) + 1, False
            continue
        if in_signature or _is_signature(lines[i]):
            kinds[i], in_signature = "signature", True
        i += 1
    return kinds


_FORWARDED = re.compile(r"forwarded message|weitergeleitete nachricht|message transféré|begin forwarded message",
                        re.IGNORECASE)


def quoted_history_start(body: str) -> int:
    """Where the quoted history at the end of a plain-text message starts (an offset into ``body``), or -1: the last
    run of quoted lines and quote headers ("On … wrote:", "-----Original Message-----", …), below words of the
    sender's own. The reader folds it. A forwarded message is the content, not history: -1."""
    if len(body) > MAX_CHARS:
        return -1
    lines = body.split("\n")
    kinds = _line_kinds([line.rstrip("\r") for line in lines])
    start = len(lines)
    while start > 0 and (kinds[start - 1] == "quote" or not lines[start - 1].strip()):
        start -= 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or _FORWARDED.search(lines[start]):
        return -1
    if not any(kind == "own" and line.strip() for line, kind in zip(lines[:start], kinds[:start], strict=True)):
        return -1
    return sum(len(line) + 1 for line in lines[:start])


_HTML_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\w")


class _HistoryFinder(HTMLParser):
    """The first element a mail client quotes history in (``blockquote``, Gmail's ``gmail_quote``, Thunderbird's
    citation prefix, Outlook's reply header…): where it starts, as (line, column)."""

    CLASSES = ("gmail_quote", "yahoo_quoted", "moz-cite-prefix", "zmail_extra")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: tuple[int, int] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.found is not None:
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        classes, ident = values.get("class", "").lower(), values.get("id", "").lower()
        if tag == "blockquote" or any(c in classes for c in self.CLASSES) or "outlookmessageheader" in classes \
                or ident in _QuotingText.HISTORY_IDS:
            self.found = self.getpos()


def quoted_history_start_html(html: str) -> int:
    """The same for an HTML body: where the first quoting element starts, when the sender wrote something above
    it and it is not a forwarded message; else -1."""
    if len(html) > MAX_CHARS * 5:
        return -1
    finder = _HistoryFinder()
    try:
        finder.feed(html)
        finder.close()
    except Exception:  # noqa: BLE001 - a body the parser cannot read is shown whole
        return -1
    if finder.found is None:
        return -1
    line, column = finder.found
    offset = sum(len(text) + 1 for text in html.split("\n")[:line - 1]) + column
    above = re.sub(r"(?is)<(style|script|head|title)\b.*?</\1>", " ", html[:offset])
    if not _WORD.search(_HTML_TAG.sub(" ", above)) or _FORWARDED.search(_HTML_TAG.sub(" ", html[offset:offset + 800])):
        return -1
    return offset


def unquoted_text(body: str) -> str:
    """The principal's words, their stretches joined (what a rejection's comment or an edit is made of)."""
    return "\n\n".join(own_words(body))


class _QuotingText(HTMLParser):
    """HTML as text, with what clients quote in marked ``>`` and Outlook's reply header starting the history."""

    BLOCKS = {"p", "div", "br", "li", "ul", "ol", "tr", "table", "blockquote", "pre", "hr", "h1", "h2", "h3", "h4",
              "h5", "h6", "section", "article", "header", "footer"}
    VOID = {"br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source"}
    QUOTES = ("gmail_quote", "yahoo_quoted", "zmail_extra", "moz-forward-container")
    SIGNATURES = ("gmail_signature", "moz-signature")
    HISTORY_IDS = ("divrplyfwdmsg", "appendonsend", "stopspelling", "mail-editor-reference-message-container")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.stack: list[tuple[str, str]] = []
        self.depth = self.skip = 0
        self.history = False

    def _break(self) -> None:
        text = " ".join("".join(self.current).split())
        self.current = []
        if text:
            self.lines.append("> " * (self.depth + (1 if self.history else 0)) + text)
        elif self.lines and self.lines[-1] != "":
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        classes, ident = values.get("class", "").lower(), values.get("id", "").lower()
        if tag in self.BLOCKS:
            self._break()
        if not self.history and (ident in self.HISTORY_IDS or "outlookmessageheader" in classes):
            self._break()
            self.lines.append("-----Original Message-----")
            self.history = True
        if tag in self.VOID:
            return
        role = ""
        if tag in ("style", "script", "head", "title") or any(c in classes for c in self.SIGNATURES) \
                or ident == "signature":
            role, self.skip = "skip", self.skip + 1
        elif tag == "blockquote" or any(c in classes for c in self.QUOTES):
            role, self.depth = "quote", self.depth + 1
        self.stack.append((tag, role))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            open_tag, role = self.stack.pop()
            if role == "quote":
                self._break()
                self.depth -= 1
            elif role == "skip":
                self.skip -= 1
            if open_tag == tag:
                break
        if tag in self.BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)

    def text(self) -> str:
        self._break()
        return "\n".join(self.lines)


def html_to_quoted_text(html: str) -> str:
    parser = _QuotingText()
    try:
        parser.feed(html[:MAX_CHARS * 5])
        parser.close()
    except Exception:  # noqa: BLE001 - a broken part is no answer, never an error
        return ""
    return parser.text()


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", _SKIN_TONES.sub("", text)).strip().lower()
    text = re.sub(r"[\s.!。！]+$", "", text)
    return re.sub(r"\s+", " ", text)


def _read(text: str, *, short_forms: bool) -> ReplyDecision:
    """One stretch of the principal's words."""
    if DRAFT_BEGINS in text and DRAFT_ENDS in text.split(DRAFT_BEGINS, 1)[1]:
        inner = text.split(DRAFT_BEGINS, 1)[1].split(DRAFT_ENDS, 1)[0].strip("\n")
        return ReplyDecision("edit", body=inner + "\n") if inner.strip() else ReplyDecision("unknown")
    first, _, rest = text.partition("\n")
    first_n = _norm(first)
    edit = _EDIT.match(text.strip())
    if edit:
        new_body = edit.group("body").strip("\n")
        return ReplyDecision("edit", body=new_body + "\n") if new_body.strip() else ReplyDecision("unknown")
    core = re.sub(rf"[\s,;.!-]*{THANKS}(?: you)?$", "", first_n).strip(" ,;.!-")
    if core in APPROVE:
        return ReplyDecision("approve")
    if core in SHORT_APPROVE or first_n in SHORT_APPROVE:
        return ReplyDecision("approve", short_form=True) if short_forms else ReplyDecision("unknown", short_form=True)
    reject = _REJECT.match(text.strip())
    if reject and not first_n.startswith("no ") or (reject and ":" in first):
        return ReplyDecision("reject", comment=reject.group("reason").strip())
    if _REJECT_BARE.match(first_n):
        return ReplyDecision("reject", comment=rest.strip())
    if first_n in SHORT_REJECT:
        return ReplyDecision("reject", short_form=True) if short_forms else ReplyDecision("unknown", short_form=True)
    return ReplyDecision("unknown")


def _decide(stretches: list[str], *, short_forms: bool) -> ReplyDecision:
    read = [(s, _read(s, short_forms=short_forms)) for s in stretches]
    decided = [(s, d) for s, d in read if d.kind != "unknown"]
    if not decided:
        return ReplyDecision("unknown", short_form=any(d.short_form for _s, d in read))
    first_text, first = decided[0]
    if any(d.kind != first.kind or (d.kind == "edit" and d.body != first.body) for _s, d in decided[1:]):
        return ReplyDecision("unknown", conflict=True)
    if first.kind == "approve":
        words = [first_text.partition("\n")[2]] + [s for s in stretches if s is not first_text]
        if any(_CONDITION.search(w) for w in words):
            return ReplyDecision("unknown")  # "approved, but…": a condition is for the assistant to read
    return first


def parse_reply(body: str, *, short_forms: bool, html: str = "") -> ReplyDecision:
    """The decision in a reply's text part and, when it has one, its HTML part: read from the principal's own words
    only; a text and an HTML part that disagree are no decision."""
    from_text = _decide(own_words(body), short_forms=short_forms) if body.strip() else ReplyDecision("unknown")
    if not html.strip():
        return from_text
    from_html = _decide(own_words(html_to_quoted_text(html)), short_forms=short_forms)
    if from_text.kind == "unknown" and not from_text.conflict:
        return from_html if from_html.kind != "unknown" or from_html.conflict else from_text
    if from_html.kind == "unknown" and not from_html.conflict:
        return from_text
    if from_html.kind != from_text.kind:
        return ReplyDecision("unknown", conflict=True)
    return from_text
