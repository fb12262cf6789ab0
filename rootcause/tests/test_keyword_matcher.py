"""The one-automaton matcher answers exactly as the per-rule regex loop it replaces."""

import random

from rootcause import tagging

KEYWORDS = [
    (1, ["runs small", "too small", "tight", "size up"], ["not tight"], [], []),
    (2, ["hem*", "fit*", "wi-fi", "c++", "-"], [], [], []),
    (3, ["£5", "$$", "e-mail", "re-order*"], ["no e-mail"], ["shop"], []),
    (4, ["café", "straße", "naïve", "ſtuff", "ıt", "σς"], [], [], ["gold"]),
    (5, ["love", "beautiful", "cute"], ["wanted to love", "unfortunately"], [], []),
    (6, ["fit", "fits well", "_x_", "a b"], ["fits well enough"], ["shop", "app"], ["gold"]),
    (7, ["ok*", "x"], [], [], []),
]
PIECES = [
    "runs small",
    "RUNS SMALL",
    "tight",
    "not tight",
    "size up",
    "sized",
    "hemline",
    "hem",
    "them",
    "outfit",
    "fitted",
    "FIT",
    "fits well",
    "fits well enough",
    "wi-fi",
    "wifi",
    "c++",
    "c+++",
    "-",
    "--",
    "£5",
    "£50",
    "$$",
    "e-mail",
    "no e-mail",
    "re-order",
    "re-ordered",
    "café",
    "CAFÉ",
    "straße",
    "STRASSE",
    "naïve",
    "ſtuff",
    "stuff",
    "STUFF",
    "İt",
    "ıt",
    "it",
    "ΣΣ",
    "σς",
    "love",
    "LOVED",
    "wanted to love",
    "unfortunately",
    "_x_",
    "a_x_b",
    "a b",
    "a  b",
    "ok",
    "okay",
    "😀",
    "’",
    "12",
    "\n",
    "K",
]


def _texts(n: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    texts = ["", " ", "fit", "Runs small.", "I love it, but unfortunately it runs small"]
    for _ in range(n):
        parts = [rnd.choice(PIECES) for _ in range(rnd.randint(1, 8))]
        glue = rnd.choice([" ", "", ", ", ".", "-", "_", "  "])
        text = glue.join(parts)
        if rnd.random() < 0.3:
            text = text.upper()
        texts.append(text)
    return texts


def test_the_automaton_gives_the_same_tags_as_a_regex_per_rule_on_varied_text():
    rules = tagging.compile_rules(KEYWORDS)
    matcher = tagging.Matcher(rules)
    compared = differing = 0
    for text in _texts(6000, seed=7):
        for source, segment in (("", ""), ("shop", "gold"), ("app", ""), ("shop", "silver")):
            expected = tagging.match(text, rules, source=source, segment=segment)
            compared += 1
            differing += matcher.match(text, source=source, segment=segment) != expected
    assert compared == 4 * 6005 and differing == 0


def test_the_automaton_respects_whole_words_star_endings_and_negative_keywords():
    matcher = tagging.Matcher(
        tagging.compile_rules(
            [
                KEYWORDS[0],
                (2, ["hem*"], [], [], []),
                (3, ["£5", "e-mail"], [], ["shop"], []),
                (4, ["café", "straße"], [], [], ["gold"]),
                KEYWORDS[4],
            ]
        )
    )
    assert matcher.match("It RUNS SMALL, size up") == {1}
    assert matcher.match("It runs small but is not tight") == set()  # a negative keyword vetoes the rule
    assert matcher.match("The hemline is fine") == {2}  # hem* takes any ending
    assert matcher.match("Them and the outfit") == set()  # neither is a whole word
    assert matcher.match("Loved it") == set()  # "love" has no star
    assert matcher.match("I wanted to love it") == set()  # its negative keyword
    assert matcher.match("costs £5 by e-mail", source="shop") == {3}
    assert matcher.match("costs £5 by e-mail", source="app") == set()  # driver written for "shop" only
    assert matcher.match("A CAFÉ STRASSE", segment="gold") == {4}  # ß lower-cases to itself; ss ≠ ß


def test_a_taxonomy_without_keywords_matches_nothing():
    assert tagging.Matcher([]).match("anything at all") == set()
