"""The topic as the offline templates use it: one noun phrase that is never inflected.

Templates put the topic only where any noun phrase reads correctly — after a
preposition ("a guide to {topic}", "advice about {topic}") or before a colon at the
start of a title — never as the subject of a verb ("{topic} needs ...") or in front of
another noun ("{topic} tips"). So "cold showers", "Python", "Marie Curie" and
"productivity tips" all read well without a morphology library. Two shapes are turned
into a noun phrase first: an activity ("learn Spanish" → "learning Spanish") and a
question ("How do I start running?" → "how to start running").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GERUNDS = {
    "learn": "learning",
    "start": "starting",
    "build": "building",
    "get": "getting",
    "make": "making",
    "stop": "stopping",
    "write": "writing",
    "run": "running",
    "save": "saving",
    "grow": "growing",
    "improve": "improving",
    "cook": "cooking",
    "become": "becoming",
    "find": "finding",
    "keep": "keeping",
    "quit": "quitting",
    "read": "reading",
    "study": "studying",
    "train": "training",
    "lose": "losing",
    "manage": "managing",
    "plan": "planning",
    "create": "creating",
    "speak": "speaking",
    "play": "playing",
    "invest": "investing",
    "sell": "selling",
    "launch": "launching",
    "raise": "raising",
    "fix": "fixing",
    "organize": "organizing",
    "organise": "organising",
    "declutter": "decluttering",
    "meditate": "meditating",
    "practice": "practising",
    "practise": "practising",
    "wake": "waking",
    "eat": "eating",
    "drink": "drinking",
    "walk": "walking",
    "swim": "swimming",
    "draw": "drawing",
    "paint": "painting",
    "code": "coding",
    "teach": "teaching",
    "pay": "paying",
    "reduce": "reducing",
    "prepare": "preparing",
    "negotiate": "negotiating",
    "do": "doing",
    "use": "using",
    "go": "going",
    "take": "taking",
    "have": "having",
    "try": "trying",
    "change": "changing",
    "move": "moving",
    "afford": "affording",
}
QUESTION = re.compile(
    r"^(how|what|why|when|where|which|who|should|can|is|are|do|does)\b", re.IGNORECASE
)
HOW_TO = re.compile(
    r"^how\s+(?:do|can|should|could|would)\s+(?:i|you|we|one|people)\s+(.+)$", re.IGNORECASE
)
WHAT_IS = re.compile(r"^what\s+(?:is|are)\s+(.+)$", re.IGNORECASE)
YES_NO = re.compile(
    r"^(?:should|can|could|do|will|would)\s+(?:i|you|we|one|people)\s+(.+)$", re.IGNORECASE
)
WH_DO = re.compile(r"^(why|when|where|how)\s+(?:do|does|did)\s+(.+)$", re.IGNORECASE)


def _lower_first(text: str) -> str:
    """Lower-case the first word unless it looks like a name or an acronym."""
    first, _, rest = text.partition(" ")
    named = first[:1].isupper() and any(w[:1].isupper() for w in rest.split())
    if first.isupper() or named or (not rest and first[:1].isupper()):
        return text
    if any(c.isupper() for c in first[1:]):
        return text
    return first[:1].lower() + first[1:] + (" " + rest if rest else "")


def _activity(text: str) -> str | None:
    """``"quit sugar"`` → ``"quitting sugar"`` when the first word is a known verb."""
    verb, _, rest = text.partition(" ")
    gerund = GERUNDS.get(verb.lower())
    return f"{gerund} {rest}" if gerund and rest else None


@dataclass(frozen=True)
class Subject:
    """What a piece is about, in the forms the templates need.

    :param topic: the task's topic, as the person wrote it.
    :param phrase: a noun phrase for any prepositional slot ("a guide to PHRASE").
    :param question: the topic was a question (titles may quote it).
    """

    topic: str
    phrase: str
    question: bool

    @classmethod
    def of(cls, topic: str) -> Subject:
        text = " ".join(topic.split()).strip()
        core = text.rstrip("?!. ")
        question = text.endswith("?") or bool(QUESTION.match(core) and " " in core)
        phrase = core
        how = HOW_TO.match(core)
        what = WHAT_IS.match(core)
        yes_no = YES_NO.match(core)
        wh_do = WH_DO.match(core)
        if how:
            phrase = _activity(how.group(1)) or "how to " + how.group(1)
        elif what:
            phrase = what.group(1)
        elif yes_no:
            phrase = _activity(yes_no.group(1)) or f"the question \u201c{core}?\u201d"
        elif wh_do and len(wh_do.group(2).split()) >= 2:
            phrase = wh_do.group(2).rsplit(" ", 1)[0]  # "why do habits fail" → "habits"
        elif question:
            phrase = f"the question \u201c{core}?\u201d"
        else:
            first, _, rest = core.partition(" ")
            gerund = GERUNDS.get(first.lower())
            if gerund and rest:
                phrase = f"{gerund} {rest}"
        if how or what or yes_no or wh_do:
            phrase = _lower_first(phrase)
        return cls(topic=text, phrase=phrase, question=question)

    @property
    def heading(self) -> str:
        """The phrase with its first letter upper case, to open a title or sentence."""
        return self.phrase[:1].upper() + self.phrase[1:]

    @property
    def short(self) -> str:
        """The phrase for tags and hashtags: at most four words."""
        words = self.phrase.split()
        return " ".join(words[:4])
