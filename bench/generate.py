"""Synthetic archival records shaped like the real ones, for benchmarks.

Shape taken from the bundled sources (two document pages, 11 CSV rows): 1-2 authors, 1-3 conversation
participants, 0-2 people present, 0-3 addressees, 0-6 associated people, 1-5 places, 1-4 subjects;
body text 2,000-22,000 characters (median ~6,000) naming people from the authority so mention
recognition has work to do; dates 1945-1991 at day (80 %), month (15 %) or year (5 %) precision;
archival citations with fond/opis/delo parts; most originals not in English, so most records carry
a translation. Record ``i`` depends only on (seed, i): ``generate(10)`` is a prefix of ``generate(100)``.

API::

    from bench.generate import generate, authority
    for record in generate(1000, seed=1): ...
    auth = authority(seed=1)            # the lod.authority.Authority the names come from

CLI::

    python -m bench.generate N DATA_DIR [--seed S]   # writes DATA_DIR/records/*.yaml + authority.yaml
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from lod.records import Citation, Conversation, Record

FIRST = ["Pavel", "Ivan", "Nikolai", "Andrei", "Sergei", "Li", "Wang", "Zhang", "Chen", "Kim", "Park",
         "Janos", "Walter", "Erich", "Helmut", "Josip", "Tran", "Nguyen", "Fidel", "Gamal", "Jawaharlal",
         "Vasily", "Mikhail", "Yuri", "Dmitri", "Konstantin", "Georgi", "Todor", "Wladyslaw", "Enver"]
LAST = ["Yudin", "Fedorenko", "Gromyko", "Kosygin", "Suslov", "Ponomarev", "Chervonenko", "Zimyanin",
        "Kapitsa", "Sudarikov", "Rakhmanin", "Abrasimov", "Ulbricht", "Honecker", "Kadar", "Gomulka",
        "Zhivkov", "Tito", "Hoxha", "Novotny", "Ceausescu", "Dubcek", "Tsedenbal", "Pham", "Le", "Hoang",
        "Ri", "Choe", "Nam", "Peng", "Chen", "Deng", "Kang", "Tao", "Bo", "Luo", "Geng", "Huang", "Ji"]
ORGS = ["Ministry of Foreign Affairs of the USSR", "CPSU Central Committee", "CCP Central Committee",
        "Embassy of the USSR in the PRC", "Ministry of Foreign Affairs of the PRC", "SED Politburo",
        "Hungarian Socialist Workers' Party", "Polish United Workers' Party", "Korean Workers' Party",
        "Vietnam Workers' Party", "Warsaw Pact Political Consultative Committee", "Comecon Secretariat"]
PLACES = ["Moscow", "Beijing", "Pyongyang", "Hanoi", "Berlin", "Warsaw", "Budapest", "Prague", "Sofia",
          "Bucharest", "Belgrade", "Tirana", "Ulaanbaatar", "Havana", "Shanghai", "Vladivostok", "Tokyo",
          "Seoul", "Taipei", "Delhi", "Cairo", "Geneva", "Vienna", "Helsinki", "Washington", "London", "Paris"]
ARCHIVES = [("Archive of Foreign Policy of the Russian Federation", "AVPRF"),
            ("Russian State Archive of Contemporary History", "RGANI"),
            ("Russian State Archive of Socio-Political History", "RGASPI"),
            ("Chinese Foreign Ministry Archive", "PRCFMA"),
            ("Hungarian National Archives", "MNL OL"),
            ("Polish Central Archives of Modern Records", "AAN"),
            ("German Federal Archives", "BArch"),
            ("Political Archive of the Federal Foreign Office", "PA AA"),
            ("Archive of the Ministry of Foreign Affairs of Romania", "AMAE"),
            ("Bulgarian Central State Archive", "TsDA"),
            ("Diplomatic Archives of the Ministry of Foreign Affairs of Japan", ""),
            ("Nehru Memorial Museum and Library", "NMML")]
LANGS = ["Russian"] * 40 + ["Chinese"] * 15 + ["German"] * 12 + ["Hungarian"] * 6 + ["Polish"] * 6 + \
        ["Japanese"] * 5 + ["Korean"] * 4 + ["Vietnamese"] * 3 + ["Romanian"] * 3 + ["Bulgarian"] * 2 + ["English"] * 4
SUBJECTS = ["Sino-Soviet split", "Korean War", "Hungarian Revolution, 1956", "Cuban Missile Crisis",
            "Vietnam War", "Soviet Union--Foreign relations--China", "China--Foreign relations--Soviet Union",
            "Warsaw Pact", "Nuclear weapons", "Economic assistance, Soviet", "Germany (East)--Politics and government",
            "Japan--Foreign relations--Taiwan", "Prague Spring, 1968", "Détente", "Military advisers, Soviet",
            "Korea (North)--Foreign relations", "Communist parties", "Trade", "Border disputes", "Propaganda"]
DOC_TYPES = ["memorandum-of-conversation"] * 30 + ["diary-entry"] * 15 + ["record-of-conversation"] * 10 + \
            ["letter"] * 12 + ["telegram"] * 10 + ["report"] * 10 + ["memorandum"] * 5 + ["minutes"] * 4 + \
            ["statement"] * 2 + ["speech"] * 2
CLASSIFICATIONS = ["TOP SECRET", "Secret", "Confidential", "Strictly confidential"]
FUNDERS = ["Leon Levy Foundation", "Chun & Jane Chiu Family Foundation", "Henry Luce Foundation",
           "MacArthur Foundation"]
TRANSLATORS = ["Gary Goldberg", "Austin Jersild", "Sergey Radchenko", "Charles Kraus", "David Wolff",
               "Stephan Kieninger", "Paul Wingrove", "Mark Kramer"]
WORDS = ("the of and to in a that on for with was were he said noted question government party comrades "
         "delegation embassy ambassador meeting situation policy cooperation specialists advisers soviet "
         "chinese question plenum decision relations economic military assistance delivery equipment "
         "request informed declared expressed opinion necessary important position proposal agreement "
         "discussion conversation regarding concerning development international movement struggle").split()
RIGHTS = ("The History and Public Policy Program welcomes reuse of Digital Archive materials for research "
          "and educational purposes. Some documents may be subject to copyright.")
N_PEOPLE = 3000
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def people(seed: int = 1) -> list[str]:
    """The pool of person names records draw from (all in :func:`authority`)."""
    rng = random.Random(f"people-{seed}")
    names: dict[str, None] = {}
    while len(names) < N_PEOPLE:
        names[f"{rng.choice(FIRST)} {rng.choice(LAST)}{'' if rng.random() < .7 else ' ' + rng.choice(LAST)}"] = None
    return list(names)


def authority(seed: int = 1):  # noqa: ANN201 - lod.authority.Authority
    """A synthetic authority with every name :func:`generate` uses; 30 % of people carry a high-confidence QID."""
    from lod.authority import Authority, Entity
    from lod.uris import slugify

    rng = random.Random(f"authority-{seed}")
    ents: dict[str, Entity] = {}
    for kind, pool in (("person", people(seed) + TRANSLATORS), ("organization", ORGS + FUNDERS),
                       ("place", PLACES), ("organization", [a for a, _ in ARCHIVES])):
        for name in pool:
            eid = slugify(name)
            if eid in ents:
                continue
            qid = f"Q{rng.randint(100, 99_999_999)}" if rng.random() < .3 else ""
            variants = []
            if kind == "person" and " " in name:
                given, family = name.split(" ", 1)
                variants = [f"{given[0]}. {family}", f"{family}, {given}"]
            if kind == "organization":
                variants = [abbr for a, abbr in ARCHIVES if a == name and abbr]
            ents[eid] = Entity(id=eid, label=name, kind=kind, variants=variants, wikidata=qid,
                               confidence="high" if qid else "", evidence="synthetic" if qid else "")
    return Authority(ents)


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(1945, 1991), rng.randint(1, 12), rng.randint(1, 28)
    r = rng.random()
    return f"{y}-{m:02d}-{d:02d}" if r < .8 else f"{y}-{m:02d}" if r < .95 else f"{y}"


def _text(rng: random.Random, n_chars: int, names: list[str]) -> str:
    out: list[str] = []
    size = 0
    while size < n_chars:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 25)))
        if rng.random() < .35:
            sentence += f", {rng.choice(names)} said"
        sentence = sentence[0].upper() + sentence[1:] + "."
        out.append(sentence)
        size += len(sentence) + 1
        if rng.random() < .15:
            out.append("\n\n")
    return " ".join(out).replace(" \n\n ", "\n\n")


def record(i: int, seed: int = 1, pool: list[str] | None = None) -> Record:
    """Synthetic record number ``i``; identical for identical (seed, i)."""
    pool = pool or people(seed)
    rng = random.Random(f"{seed}-{i}")
    key = str(500_000 + i)
    date = _date(rng)
    pick = lambda k, src=pool: rng.sample(src, k)  # noqa: E731
    authors = pick(1) if rng.random() < .8 else pick(2)
    if rng.random() < .1:
        authors = [rng.choice(ORGS)]
    participants = pick(rng.randint(1, 3))
    lang = [rng.choice(LANGS)] if rng.random() < .95 else [rng.choice(LANGS), rng.choice(LANGS)]
    lang = list(dict.fromkeys(lang))
    translated = lang != ["English"]
    archive, abbr = rng.choice(ARCHIVES)
    fond, opis, delo = f"{rng.randint(1, 999):04d}", str(rng.randint(1, 80)), str(rng.randint(1, 900))
    cit = Citation(text=f"{archive}{f' ({abbr})' if abbr else ''}, f. {fond}, op. {opis}, d. {delo}",
                   archive=archive, archive_abbrev=abbr, fond=fond, opis=opis, delo=delo)
    if rng.random() < .5:
        cit.list = f"{rng.randint(1, 300)}-{rng.randint(301, 400)}"
    if rng.random() < .3:
        cit.papka = str(rng.randint(1, 500))
    conversation = None
    doc_type = rng.choice(DOC_TYPES)
    if doc_type in ("memorandum-of-conversation", "diary-entry", "record-of-conversation") or rng.random() < .2:
        conversation = Conversation(date=date if len(date) < 10 or rng.random() < .5 else date[:8] + "01",
                                    participants=participants, present=pick(rng.randint(0, 2)),
                                    place=rng.choice(PLACES) if rng.random() < .3 else "")
    body_len = int(min(22_000, max(2_000, rng.lognormvariate(8.7, 0.5))))
    mentioned = participants + authors + pick(rng.randint(2, 8))
    kind_label = doc_type.replace("-", " ").capitalize()
    rec = Record(
        key=key, record_id=key, slug=f"synthetic-{key}", source_url=f"https://digitalarchive.example.org/document/{key}",
        title=f"{kind_label}, {authors[0]} with {participants[0]}, {date}",
        doc_type=doc_type, date=date, authors=authors,
        classification=rng.choice(CLASSIFICATIONS) if rng.random() < .4 else "",
        copy_number=str(rng.randint(1, 5)) if rng.random() < .3 else "",
        outgoing_number=str(rng.randint(1, 2000)) if rng.random() < .3 else "",
        addressees=pick(rng.randint(0, 3)) if rng.random() < .4 else [],
        copies_sent=pick(rng.randint(1, 2)) if rng.random() < .15 else [],
        conversation=conversation,
        drafted_by=pick(1) if rng.random() < .2 else [], typed_by=pick(1) if rng.random() < .15 else [],
        citation=cit,
        obtained_by=[rng.choice(TRANSLATORS)] if rng.random() < .5 else [],
        translated_by=[rng.choice(TRANSLATORS)] if translated and rng.random() < .8 else [],
        summary=_text(rng, rng.randint(200, 600), mentioned[:3]).replace("\n\n", " "),
        funders=[rng.choice(FUNDERS)] if rng.random() < .3 else [],
        original_language=lang, translation_language="English" if translated else "",
        rights=RIGHTS, body=_text(rng, body_len, mentioned),
        people=pick(rng.randint(0, 6)), places=rng.sample(PLACES, rng.randint(1, 5)),
        subjects=rng.sample(SUBJECTS, rng.randint(1, 4)),
    )
    if rec.funders:
        rec.credits = f"This document was made possible with support from {rec.funders[0]}"
    if rng.random() < .3:
        rec.entry_date, rec.entry_number = date, str(rng.randint(1, 999))
    return rec


def generate(n: int, seed: int = 1) -> Iterator[Record]:
    """``n`` synthetic records (record i depends only on seed and i)."""
    pool = people(seed)
    for i in range(n):
        yield record(i, seed, pool)


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """libyaml emitter, block scalars for multi-line text: the layout `lod import` writes, ~10x faster."""


_Dumper.add_representer(
    str, lambda d, v: d.represent_scalar("tag:yaml.org,2002:str", v, style="|" if "\n" in v else None))


def dumps(rec: Record) -> str:
    """A record file as `lod import` writes it (same fields, header and _import checksum)."""
    from lod.sources.record_files import HEADER

    data = rec.to_dict()
    data["_import"] = {"source": "bench/generate.py", "checksum": rec.checksum()}
    return HEADER + yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100,
                              default_flow_style=False)


def _write_range(args: tuple[int, int, int, str]) -> int:
    start, stop, seed, records = args
    pool = people(seed)
    for i in range(start, stop):
        rec = record(i, seed, pool)
        path = Path(records) / f"{rec.key}.yaml"
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(dumps(rec), encoding="utf-8")
        tmp.replace(path)
    return stop - start


def write_data(n: int, data_dir: Path, seed: int = 1, *, progress: bool = True, workers: int | None = None) -> Path:
    """A data folder for `lod build --data`: records/<key>.yaml (as `lod import` writes them) + authority.yaml.

    Written by ``workers`` processes (default: one per CPU) in chunks of 2,000 records.
    """
    import multiprocessing

    records = Path(data_dir) / "records"
    records.mkdir(parents=True, exist_ok=True)
    authority(seed).save(Path(data_dir) / "authority.yaml")
    chunks = [(a, min(a + 2000, n), seed, str(records)) for a in range(0, n, 2000)]
    t0 = time.monotonic()
    workers = workers or os.cpu_count() or 1
    if n <= 2000 or workers == 1:
        for c in chunks:
            _write_range(c)
        return Path(data_dir)
    done = 0
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for k in pool.imap_unordered(_write_range, chunks):
            done += k
            if progress:
                print(f"  generated {done}/{n} records ({time.monotonic() - t0:.0f} s)", file=sys.stderr)
    return Path(data_dir)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="number of records")
    ap.add_argument("data_dir", type=Path, help="data folder to write (records/ and authority.yaml)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    write_data(a.n, a.data_dir, a.seed)
    print(a.data_dir)


if __name__ == "__main__":
    main()
