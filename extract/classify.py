"""Recognise a document by its title and split a file into documents.

The title is looked for in the first lines of a page, fuzzily; a page that starts with a known
title starts a new document, a page without one continues the document before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from extract.layout import Line, build_lines
from extract.keys import fold
from extract.pagemodel import Page
from forms.schema import FormDecl

#: How many lines from the top of a page are searched for a title.
TITLE_LINES = 12
MIN_TITLE_SCORE = 86.0
#: A title read this closely (納税証明書 as 疹税証明書: 80) names the document when the page
#: also holds this share of the form's labels; alone it does not (課税証明書 is also 80).
NEAR_TITLE_SCORE = 75.0
NEAR_TITLE_LABELS = 0.75
#: A title garbled further (納 税 証 明 書 read as 納説証 明) still names the document when
#: half the form's labels are on the page and the title is this like it: the labels decide.
GARBLED_TITLE_SCORE = 60.0
GARBLED_TITLE_LABELS = 0.5
#: A title read past recognition (納　税　証　明　書 spaced out, read as 川杉 説街 非 書): the
#: labels alone name the document when this share of one form's labels (at least so many) is
#: on the page, and more of them than of any other form's.
LABELS_ALONE = 0.6
LABELS_ALONE_COUNT = 4


@dataclass(frozen=True)
class Classification:
    form: FormDecl | None
    score: float


#: Box marks the reader may put in a line: in a title they stand for characters misread (a bold
#: 品's 口 taken for a ticked box), so they are left out rather than counted as wrong characters.
_MARKS = str.maketrans("", "", "☑☐☒■□")


def _title_score(title: str, line_text: str) -> float:
    key, _ = fold(title)
    hay = fold(line_text)[0].translate(_MARKS)
    if not key or not hay:
        return 0.0
    if len(hay) <= len(key):
        # (partial_ratio scores strings of one length by their best shorter window: 課税証明書
        # would be 89 like 納税証明書, another certificate taken for this one)
        score = fuzz.ratio(key, hay)
    else:
        score = fuzz.partial_ratio(key, hay)
    # A title stands alone on its line; a long line that merely mentions it is prose.
    if len(hay) > 1.6 * len(key) + 6:
        score *= 0.8
    return score


def classify_lines(lines: list[Line], forms: list[FormDecl], *, by_labels: bool = True) -> Classification:
    """The form a page is: by its title, a title misread by a character with the form's
    labels; a title garbled or missing by the labels alone (``by_labels``: not asked where
    only a title could start a document)."""
    best: tuple[float, int, FormDecl] | None = None
    near: dict[str, tuple[float, FormDecl]] = {}
    garbled_titles: dict[str, tuple[float, FormDecl]] = {}
    for line in lines[:TITLE_LINES]:
        for form in forms:
            for title in (form.title, *form.title_variants):
                score = _title_score(title, line.text)
                # prefer the longer (more specific) title on equal scores
                cand = (score, len(title), form)
                if best is None or cand[:2] > best[:2]:
                    best = cand
                if score >= NEAR_TITLE_SCORE and score > near.get(form.id, (0.0, form))[0]:
                    near[form.id] = (score, form)
                if score >= GARBLED_TITLE_SCORE and score > garbled_titles.get(form.id, (0.0, form))[0]:
                    garbled_titles[form.id] = (score, form)
    if best is not None and best[0] >= MIN_TITLE_SCORE:
        return Classification(best[2], best[0])
    from extract.assign import labels_found

    # a title misread by a character more: the form's own labels on the page settle it
    counts = {form.id: labels_found(form, lines) for _, form in near.values()}
    for score, form in sorted(near.values(), key=lambda n: -n[0]):
        found, total = counts[form.id]
        if total and found >= NEAR_TITLE_LABELS * total:
            return Classification(form, score)
    if not by_labels:
        return Classification(None, best[0] if best else 0.0)
    counts.update({form.id: labels_found(form, lines) for form in forms if form.id not in counts})
    # no title at all: the labels of one form, many of them, more than any other form's
    ranked = sorted(forms, key=lambda f: -counts[f.id][0])
    top = ranked[0] if ranked else None
    if top is not None:
        found, total = counts[top.id]
        runner_up = counts[ranked[1].id][0] if len(ranked) > 1 else -1
        if found >= LABELS_ALONE_COUNT and found >= LABELS_ALONE * total and runner_up < found:
            return Classification(top, 0.0)
    # a title garbled further (or misread by a character, 納税税証明書, on a certificate that
    # prints only half the form's labels): with half the labels of that form, and that form only
    fits = [
        (score, form)
        for score, form in garbled_titles.values()
        if counts[form.id][0] >= 3 and counts[form.id][0] >= GARBLED_TITLE_LABELS * counts[form.id][1]
    ]
    if len(fits) == 1:
        return Classification(fits[0][1], fits[0][0])
    return Classification(None, best[0] if best else 0.0)


def split_documents(pages: list[Page], forms: list[FormDecl]) -> list[tuple[Classification, list[Page]]]:
    """Group consecutive pages into documents, each starting at a page with a known title."""
    groups: list[tuple[Classification, list[Page]]] = []
    for page in pages:
        # after a known document only a title can start another: its labels are not asked
        found = classify_lines(build_lines(page), forms, by_labels=not groups or groups[-1][0].form is None)
        # a page named by its labels only (no title) goes on the document before it: the
        # second page of a form holds labels of the form too
        if not groups or (found.form is not None and found.score >= NEAR_TITLE_SCORE):
            groups.append((found, [page]))
        elif groups[-1][0].form is None and found.form is not None:
            groups[-1] = (found, [*groups[-1][1], page])
        else:
            groups[-1][1].append(page)
    return groups
