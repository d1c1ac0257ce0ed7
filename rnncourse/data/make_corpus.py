"""Seeded generator of ``corpus.txt``, the course's default character corpus.

The text is short made-up stories about a handful of villagers and animals,
built from a small probabilistic grammar: simple past-tense narration, a
little dialogue, counting words and weather.  It has enough regularity
(spelling, capitals after full stops, paired quotes, line breaks) for a small
character RNN to pick up within minutes, and enough variety not to be memorised
at once.

Only the standard library's ``random.Random`` is used, whose output for a given
integer seed is stable across Python versions, so ``generate()`` always returns
the same text.  Regenerate the shipped file with::

    python -m rnncourse.data.make_corpus
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

SEED = 2024
TARGET_CHARS = 40_000
WIDTH = 68

# name -> pronoun (subject, object, possessive)
PEOPLE = {
    "Mira": ("she", "her", "her"),
    "Tomas": ("he", "him", "his"),
    "Ada": ("she", "her", "her"),
    "Juno": ("he", "him", "his"),
    "Pell": ("he", "him", "his"),
    "Rosa": ("she", "her", "her"),
    "Ivo": ("he", "him", "his"),
    "Lena": ("she", "her", "her"),
    "Otto": ("he", "him", "his"),
    "Nell": ("she", "her", "her"),
}
ANIMALS = (
    ("fox", "foxes"),
    ("owl", "owls"),
    ("goat", "goats"),
    ("heron", "herons"),
    ("cat", "cats"),
    ("dog", "dogs"),
    ("mouse", "mice"),
    ("crow", "crows"),
    ("hare", "hares"),
    ("duck", "ducks"),
    ("pony", "ponies"),
    ("hen", "hens"),
)
THINGS = (
    ("kite", "kites"),
    ("lantern", "lanterns"),
    ("basket", "baskets"),
    ("letter", "letters"),
    ("map", "maps"),
    ("drum", "drums"),
    ("apple", "apples"),
    ("boat", "boats"),
    ("key", "keys"),
    ("blanket", "blankets"),
    ("bell", "bells"),
    ("loaf", "loaves"),
    ("shell", "shells"),
    ("button", "buttons"),
    ("feather", "feathers"),
    ("cup", "cups"),
    ("umbrella", "umbrellas"),
    ("candle", "candles"),
)
ADJECTIVES = (
    "red",
    "small",
    "old",
    "bright",
    "heavy",
    "green",
    "broken",
    "warm",
    "wooden",
    "tiny",
    "silver",
    "blue",
    "round",
    "strange",
    "new",
    "yellow",
    "dusty",
    "shiny",
)
PLACES = (
    "the mill",
    "the river",
    "the old bridge",
    "the market",
    "the orchard",
    "the hill",
    "the harbour",
    "the bakery",
    "the forest",
    "the school",
    "the well",
    "the garden",
    "the station",
    "the library",
    "the meadow",
    "the lighthouse",
)
NEAR = ("near", "behind", "beside", "past", "across from", "not far from")
SPOTS = (
    "on the roof",
    "by the door",
    "in the grass",
    "under the table",
    "near the fence",
    "on the wall",
    "under the cart",
    "in the hay",
    "on a warm stone",
    "by the window",
)
TIMES = (
    "in the morning",
    "at noon",
    "after lunch",
    "before dinner",
    "in the evening",
    "at night",
    "on Monday",
    "on Tuesday",
    "on Friday",
    "early on Sunday",
    "late in the afternoon",
    "at sunrise",
    "just before sunset",
)
MOVES = ("walked", "ran", "hurried", "wandered", "rode", "cycled", "went")
HANDLING = (
    "found",
    "lost",
    "carried",
    "painted",
    "mended",
    "dropped",
    "hid",
    "borrowed",
    "washed",
    "bought",
    "sold",
    "wrapped",
)
ANIMAL_ACTS = ("slept", "sang", "waited", "sat", "hid", "dozed", "played", "listened")
ANIMAL_DOING = ("sleeping", "singing", "waiting", "eating", "dozing", "playing", "watching")
ADVERBS = ("quietly", "slowly", "happily", "carefully", "quickly", "patiently", "proudly")
FEELINGS = ("happy", "tired", "hungry", "curious", "sleepy", "cheerful", "worried", "proud", "cold", "busy")
SKY = ("grey", "clear", "blue", "cloudy", "pale", "dark")
WIND = ("cold", "soft", "strong", "gentle", "wild", "warm")
NUMBERS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
CONTAINERS = ("in the basket", "on the shelf", "in a box", "on the table", "in the boat", "by the well")
ENDINGS = (
    "ate some soup",
    "read a book by the fire",
    "fell asleep at once",
    "wrote a long letter",
    "drank a cup of tea",
    "played the drum until supper",
    "sang a quiet song",
    "looked at the stars for a while",
)
SAID = ("said", "asked", "called", "whispered", "laughed")


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _cap(sentence: str) -> str:
    return sentence[0].upper() + sentence[1:]


class _Story:
    """One paragraph: a hero, a friend, an object and an animal that recur."""

    def __init__(self, r: random.Random) -> None:
        self.r = r
        self.hero, self.friend = r.sample(sorted(PEOPLE), 2)
        self.thing, self.things = r.choice(THINGS)
        self.adj = r.choice(ADJECTIVES)
        self.animal, self.animals = r.choice(ANIMALS)
        self.place = r.choice(PLACES)

    def pron(self, who: str, case: int = 0) -> str:
        return PEOPLE[who][case]

    # --- sentence makers -------------------------------------------------
    def opening(self) -> str:
        r = self.r
        kind = r.randrange(4)
        if kind == 0:
            return f"{_cap(r.choice(TIMES))}, {self.hero} {r.choice(MOVES)} to {self.place}."
        if kind == 1:
            return f"The sky was {r.choice(SKY)} and the wind was {r.choice(WIND)}."
        if kind == 2:
            return f"{self.hero} woke up {r.choice(TIMES)} and felt {r.choice(FEELINGS)}."
        return f"There was {_a(self.adj)} {self.thing} {r.choice(NEAR)} {self.place}."

    def handle(self) -> str:
        r = self.r
        verb = r.choice(HANDLING)
        where = f" {r.choice(NEAR)} {r.choice(PLACES)}" if r.random() < 0.6 else ""
        return f"{self.hero} {verb} the {self.adj} {self.thing}{where}."

    def animal_scene(self) -> str:
        r = self.r
        if r.random() < 0.5:
            return f"The {self.animal} {r.choice(ANIMAL_ACTS)} {r.choice(ADVERBS)} {r.choice(SPOTS)}."
        return f"{_cap(r.choice(NUMBERS))} {self.animals} {r.choice(ANIMAL_ACTS)} {r.choice(SPOTS)}."

    def when(self) -> str:
        r = self.r
        return (
            f"When {self.hero} reached {self.place}, the {self.animal} was "
            f"{r.choice(ANIMAL_DOING)} {r.choice(SPOTS)}."
        )

    def count(self) -> str:
        r = self.r
        return f"{self.hero} counted {r.choice(NUMBERS)} {self.things} {r.choice(CONTAINERS)}."

    def feeling(self) -> str:
        r = self.r
        she = self.pron(self.hero)
        feel = r.choice(FEELINGS)
        link = r.choice(("so", "but", "and"))
        follow = {
            "so": f"{she} sat down {r.choice(SPOTS)}",
            "but": f"{she} kept looking for the {self.thing}",
            "and": f"{she} waved to {self.friend}",
        }[link]
        return f"{self.hero} was {feel}, {link} {follow}."

    def dialogue(self) -> list[str]:
        r = self.r
        hero, friend = self.hero, self.friend
        kind = r.randrange(4)
        if kind == 0:
            q = f'"Have you seen my {self.thing}?" asked {hero}.'
            if r.random() < 0.5:
                a = f'"I saw it {r.choice(NEAR)} {r.choice(PLACES)}," said {friend}.'
            else:
                a = f'"No, but the {self.animals} might know," said {friend}.'
            return [q, a]
        if kind == 1:
            return [
                f'"Where are you going?" {friend} {r.choice(("asked", "called"))}.',
                f'"To {r.choice(PLACES)}," said {hero}, '
                f'"because I need {_a(r.choice(ADJECTIVES))} {r.choice(THINGS)[0]}."',
            ]
        if kind == 2:
            n = r.choice(NUMBERS)
            return [
                f'"I have {n} {self.things}," {hero} {r.choice(SAID)}.',
                f'"Then give me one," said {friend}, "and you will still have some."',
            ]
        return [
            f'"Look at the {self.animal}!" {r.choice(SAID)} {friend}.',
            f"{hero} looked, and the {self.animal} looked back.",
        ]

    def ending(self) -> str:
        r = self.r
        if r.random() < 0.3:
            return f"Then {self.hero} went home with {self.friend}, and they {r.choice(ENDINGS)}."
        return f"Then {self.hero} went home and {r.choice(ENDINGS)}."

    def paragraph(self) -> str:
        r = self.r
        makers = (self.handle, self.animal_scene, self.when, self.count, self.feeling)
        sentences = [self.opening()]
        for _ in range(r.randint(2, 5)):
            if r.random() < 0.25:
                sentences.extend(self.dialogue())
            else:
                sentences.append(r.choice(makers)())
        sentences.append(self.ending())
        return textwrap.fill(" ".join(sentences), width=WIDTH)


def generate(seed: int = SEED, target_chars: int = TARGET_CHARS) -> str:
    """Return the corpus text: paragraphs until at least ``target_chars`` characters."""
    r = random.Random(seed)
    parts = ["Small Stories from the Valley"]
    size = len(parts[0])
    while size < target_chars:
        p = _Story(r).paragraph()
        parts.append(p)
        size += len(p) + 2
    return "\n\n".join(parts) + "\n"


def main() -> None:
    path = Path(__file__).resolve().parent / "corpus.txt"
    path.write_text(generate(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
