"""Page furniture in English, Russian and Ukrainian: the lines every outlet wraps around an
article (comment threads, wire credits, partner blocks, counters, prompts, relative times,
category lines).

Such lines read like short text, so shape alone keeps them; their wording, though, is shared
by thousands of sites because it comes from the same CMS themes and wire styles; the
commonest of those strings in German, French, Spanish, Italian and Polish are here too. Each pattern
carries the name of its family, which ``newswatch parse --explain`` shows as the reason a line
was dropped. A family either ends the article (a comments heading, "Related") or is dropped
where it stands (a counter, "Listen").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Effect(StrEnum):
    DROP = "drop"  # the line alone is not article text
    END = "end"  # what follows is not the article any more (once the article has begun)
    TIME = "time"  # a bare relative time ("2 hours ago"): a date line, not text
    REPLY = "reply"  # a comment's reply button: the comment above it is not the article


@dataclass(frozen=True, slots=True)
class Furniture:
    family: str
    effect: Effect


_MAX_WORDS = 25  # furniture lines are short; a long line starting alike is prose

_FAMILIES: tuple[tuple[str, Effect, str], ...] = (
    (
        "comment thread",
        Effect.END,
        # the commonest CMS wording in German, French, Spanish, Italian and Polish
        r"(?:\d+\s+)?(?:kommentare?|commentaires?|comentarios?|commenti|komentarze?)"
        r"(?:\s*\(\d+\))?|kommentar (?:schreiben|verfassen|hinterlassen)|kommentieren"
        r"|laisser un commentaire|deja (?:un|tu) comentario|lascia un commento|dodaj komentarz"
        r"|schreibe einen kommentar",
    ),
    (
        "comment reply",
        Effect.REPLY,
        r"(?:reply|відповісти|ответить|відповідь|antworten|répondre|responder|rispondi|"
        r"odpowiedz)(?:\s*[↓→]|\s+to\s+\S+)?",
    ),
    (
        "comment form",
        Effect.DROP,
        r"(?:deine|ihre) e-?mail-?adresse wird nicht veröffentlicht|erforderliche felder"
        r"|e-?mail \(wird (?:benötigt|nicht veröffentlicht)|votre adresse (?:e-?mail|de "
        r"messagerie) ne sera pas publiée|tu (?:dirección de )?correo electrónico no será publicad"
        r"|il tuo indirizzo email non sarà pubblicato|twój adres e-?mail nie zostanie opublikowany"
        r"|gefällt mir|j.aime|me gusta",
    ),
    (
        "related block",
        Effect.END,
        r"(?:das|dies) könnte (?:dich|sie|ihnen|dir) auch interessieren|auch interessant"
        r"|weitere (?:artikel|beiträge|nachrichten|meldungen|themen)|ähnliche (?:artikel|beiträge)"
        r"|verwandte (?:artikel|beiträge|themen)|neueste (?:artikel|beiträge)|meistgelesen\w*"
        r"|(?:vorheriger|nächster|älterer|neuerer) (?:beitrag|artikel)|(?:previous|next|older|"
        r"newer) (?:post|article|entry|story)|sur le même (?:sujet|thème)|articles similaires"
        r"|les plus lus|à lire aussi|noticias relacionadas|te puede interesar|lo más leído"
        r"|más noticias|articoli correlati|i più letti|leggi anche|podobne artykuły"
        r"|najczęściej czytane|czytaj (?:też|także)|zobacz (?:też|także)|polecamy"
        r"|(?:about|über) (?:the|den|die) (?:author|autor|autorin)|об авторе|про автора",
    ),
    (
        "subscription prompt",
        Effect.DROP,
        r".{0,60}(?:newsletter|рассылк|розсилк).{0,40}(?:abonnieren|anmelden|bestellen|"
        r"subscribe|sign up|suscr|inscri|iscriv|zapisz|подпис|підпис)"
        r"|(?:subscribe|sign up|abonnieren|suscríbete|abonnez-vous)\b.{0,60}$"
        r"|(?:was this|war (?:der|dieser) (?:artikel|beitrag)) (?:article |page )?"
        r"(?:helpful|nützlich)",
    ),
    (
        "page action",
        Effect.DROP,
        r"(?:teilen|drucken|merken|vorlesen|anhören|artikel anhören|pocket|tweet|twittern|"
        r"pinnen|partager|imprimer|compartir|imprimir|condividi|stampa|udostępnij|drukuj|"
        r"escucha esta noticia|das link wurde kopiert|link kopieren|zum inhalt springen|"
        r"direkt zum inhalt|skip to (?:main )?content|werbung|reklama|publicidad|publicité|"
        r"pubblicità|(?:möchten sie )?(?:diesen |den )?(?:artikel|beitrag) teilen\??|"
        r"share this (?:article|story|post|page))$",
    ),
    (
        "comment thread",
        Effect.END,
        r"(?:\d+\s+)?(?:comments?|responses?|replies|комментари[йяеи]в?|коментар(?:і|ів)?|"
        r"обсуждение|обговорення|discussion)(?:\s*\(\d+\))?"
        r"|(?:leave|post|add) a (?:reply|comment|response)|join the (?:conversation|discussion)"
        r"|comments are closed|(?:show|view|read) (?:all )?comments"
        r"|(?:оставить|добавить|написать) комментарий|(?:залишити|додати|написати) коментар\w*",
    ),
    (
        "comment form",
        Effect.DROP,
        r"your email address will not be published|required fields are marked"
        r"|save my name,? email|notify me of (?:new|follow-up)|post comment|submit comment"
        r"|like loading|(?:name|email|comment) \*$"
        r"|ваш e-?mail не (?:будет )?опубликован|обязательные поля помечены"
        r"|ваша (?:e-?mail )?адреса(?: e-?mail)? не (?:буде )?(?:оприлюдн|опублік)"
        r"|обов.язкові поля позначені",
    ),
    (
        "comment prompt",
        Effect.DROP,
        r".{0,80}ctrl\s*\+\s*enter|you must be (?:logged|signed) in|(?:log|sign) in to comment"
        r"|to (?:leave|post) a comment|(?:чтобы|щоб) (?:оставить|залишити|написати|добавить) "
        r"ком+ент|(?:войдите|увійдіть|авторизуйтес|зарегистрируйтес|зареєструйтес)",
    ),
    (
        "wire credit",
        Effect.DROP,
        r"(?:(?:additional )?reporting|writing|editing|edited|compiled|translated) by\s+"
        r"(?-i:[A-ZА-ЯІЇЄҐ])"
        r"|our standards:|the \w+ trust principles|(?:source|sources|джерело|источник|"
        r"редактор(?:ка)?|редакторы|редактори|переклад|перевод)\s*:"
        r"|по материалам\b|за матеріалами\b|with reporting from\b",
    ),
    (
        "update line",
        Effect.DROP,
        r"(?:updated|last updated|обновлено|оновлено|обновлен[оа]?|оновлен[оа]?)\b.{0,40}\d",
    ),
    (
        "related link",
        Effect.DROP,
        r"(?:(?:также|тоже) по теме|(?:также|також) (?:за темою|по темі)|по теме|за темою|"
        r"see also|read also|also read|related|more on this)\s*:\s*\S",
    ),
    (
        "partner block",
        Effect.END,
        r"(?:новости|новини|материалы|матеріали) партн[её]р\w*|partner (?:content|news)"
        r"|sponsored (?:content|links|stories)|(?:from|by) our partners|promoted (?:stories|links)"
        r"|реклама партнеров|promoted content",
    ),
    (
        "related block",
        Effect.END,
        r"(?:также|тоже) по теме|(?:также|також) (?:за темою|по темі)|по теме|за темою"
        r"|материалы по теме|матеріали за темою|(?:читайте|дивіться|смотрите) (?:також|также)"
        r"|самое (?:популярное|читаемое|интересное)|найпопулярніше|найчитаніше|популярное"
        r"|most (?:viewed|read|popular|shared|commented)|trending(?: now| stories)?"
        r"|in case you missed it"
        r"|(?:more|latest|top) (?:news|stories|headlines)|related(?: content| posts| topics)?"
        r"|suggested topics|recommended(?: for you| stories)?|editor'?s picks|what to read next"
        r"|in (?:sports?|business|world|politics|opinion|culture|tech|technology|science|"
        r"health|entertainment|lifestyle|travel)|останні новини|последние новости|новини дня"
        r"|новости дня|you might also like|more (?:about|from)(?: [\w'’]+){0,3}",
    ),
    (
        "page action",
        Effect.DROP,
        r"(?:listen|listen to (?:this )?(?:article|story)|слушать|слухати|прослухати|"
        r"share|share this|comment|advertisement|ad|реклама|save|save article|"
        r"gift(?: this)? article|print|print this(?: article| page)?|версия для печати|"
        r"версія для друку|друкувати|печать|font size|a\+|a-|aa|"
        r"\d{1,3} min(?:s|utes?)?|\d{1,3} хв|\d{1,3} мин|copy link|show more|expand)$",
    ),
    (
        "counter",
        Effect.DROP,
        r"(?:просмотр(?:ов|ы)?|переглядів|перегляди|views|reads)\s*:?\s*[\d\s.,kктис]+$"
        r"|[\d\s.,]+\s*(?:views|просмотр\w*|перегляд\w*|likes|shares)$",
    ),
    (
        "relative time",
        Effect.TIME,
        r"(?:(?:\d+|an?|one) (?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?) ago"
        r"|just now|yesterday(?:,? at \d{1,2}:\d{2}(?:\s?[ap]m)?)?"
        r"|(?:вчера|сегодня|вчора|сьогодні)(?:,?\s*(?:в|о|об)\s*\d{1,2}:\d{2})?"
        r"|\d+\s*(?:секунд\w*|минут\w*|мин\.?|час\w*|дн\w*|недел\w*)\s+назад"
        r"|\d+\s*(?:секунд\w*|хвилин\w*|хв\.?|годин\w*|год\.?|дн\w*|тиж\w*)\s+тому)$",
    ),
    (
        "category line",
        Effect.DROP,
        r"(?:categories|category|filed under|posted in|рубрик[аи]|категори[яи]|категорі[яї]|"
        r"розділ|раздел)\s*:",
    ),
)

_PATTERNS = tuple(
    (Furniture(family, effect), re.compile(rf"^(?:{pattern})\s*:?\s*$|^(?:{pattern})", re.I))
    for family, effect, pattern in _FAMILIES
)
# Every family's opening in one pattern: most lines match none, and one try tells so.
_ANY_OPENING = re.compile("|".join(f"(?:{pattern})" for _, _, pattern in _FAMILIES), re.I)
_WHOLE_LINE = frozenset(
    {
        "page action",
        "counter",
        "relative time",
        "comment thread",
        "comment reply",
        "partner block",
        "related block",
    }
)
_COOKIES = re.compile(
    r"\bcookies?\b.{0,80}\b(?:use|uses|using|accept|consent|verwende|nutze|einverstanden|"
    r"utilis|usamos|utiliza|używa|akceptuj|использ|викорис)"
    r"|\b(?:we|this (?:site|website)|wir|diese (?:website|seite)|nous|este sitio)\b.{0,40}"
    r"\bcookies?\b|privacy (?:&|and) cookies",
    re.I,
)
_COOKIE_NOTICE = Furniture("cookie notice", Effect.DROP)
_NEWSLETTER = re.compile(r"\bnewsletter", re.I)
_NEWSLETTER_PROMPT = Furniture("subscription prompt", Effect.DROP)
_NEWSLETTER_WORDS = 12  # a short line naming a newsletter asks for a sign-up
_COOKIE_WORDS = 80


def furniture(text: str, words: int) -> Furniture | None:
    """The furniture family of one cleaned line, or None for anything else.

    Families that name a whole line ("Share", "3 comments", "2 hours ago") must fill it; the
    others need only begin it, and then only on a short line, so a sentence that happens to
    open with "Reporting by the BBC showed…" stays prose.
    """
    if not text:
        return None
    if words <= _COOKIE_WORDS and _COOKIES.search(text):
        return _COOKIE_NOTICE
    if words <= _NEWSLETTER_WORDS and _NEWSLETTER.search(text):
        return _NEWSLETTER_PROMPT
    if words > _MAX_WORDS or _ANY_OPENING.match(text) is None:
        return None
    for found, pattern in _PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        if found.family in _WHOLE_LINE and match.end() < len(text.rstrip(" :.!…")):
            continue
        return found
    return None
