"""Matching person references to residents: blocking, comparison of 基本4情報, and a graded answer with its reason.

A reference is one person a source row names (a child, a recipient, a guardian …). A 宛名番号 decides it. A
school-system reference with only 学校コード + 児童生徒番号 is the pupil of the roll entry with that key. Any other
reference is compared with the residents that share a blocking key (normalised name, kana or birth date), so the
cost grows with the data, not its square. Only `certain` applies without a person's review; when two residents
fit equally (twins typed alike, namesakes born on one day) nobody is linked automatically.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from mimamori.identity.domain.model import MatchGrade
from mimamori.identity.domain.normalise import (
    GAIJI,
    address_key,
    birth_key,
    is_kana,
    kana_key,
    municipality_of,
    name_key,
    names_agree,
    partial_birth_agrees,
    sex_code,
    split_name,
)

MAX_BLOCK = 300


@dataclass(frozen=True, slots=True)
class Resident:
    """A person of the register as matching sees them: every name they have carried, kana, sex, birth, address."""

    person_id: str
    atena_no: str = ""
    names: tuple[str, ...] = ()  # the current name first, then former names (氏名変更)
    kanas: tuple[str, ...] = ()
    sex: str = ""
    birth_raw: str = ""
    birth_iso: str = ""
    address: str = ""
    setai_code: str = ""
    resident: bool = True
    former_setai_codes: tuple[str, ...] = ()  # households the person lived in before (residence history)

    @property
    def households(self) -> tuple[str, ...]:
        """Every 世帯コード the person has held, the current one first."""
        return tuple(dict.fromkeys(c for c in (self.setai_code, *self.former_setai_codes) if c))


@dataclass(frozen=True, slots=True)
class Reference:
    """A person a source row names, exactly as the row names them."""

    role: str = ""
    atena_no: str = ""
    name: str = ""
    name_kana: str = ""
    sex: str = ""
    birth_iso: str = ""
    birth_raw: str = ""
    address: str = ""
    school_code: str = ""
    student_no: str = ""
    school_name: str = ""
    grade: str = ""

    @property
    def pupil_key(self) -> tuple[str, str] | None:
        """(学校コード, 児童生徒番号) when the reference carries both."""
        return (self.school_code, self.student_no) if self.school_code and self.student_no else None

    @property
    def only_pupil_key(self) -> bool:
        """Whether the pupil key is all the reference says (attendance, nurse room)."""
        return self.pupil_key is not None and not (self.name or self.name_kana or self.atena_no)


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One source record and the persons it names, in the layout's order."""

    key: str
    source: str
    month: str = ""
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """How one reference compares with one resident, field by field."""

    person_id: str
    name: str = ""  # how the names agree: name, former_name, gaiji_name, kana_given, kana; '' = they do not
    kana: bool | None = None  # None: one side has no kana
    kana_near: bool = False  # the kana differ by one character (a typo: voicing, a long vowel, another kana)
    given: str = ""  # the family names differ but the given name agrees: given (kanji), given_kana; '' = no
    birth: str = ""  # exact, partial, near, differs; '' = unknown on one side
    sex: bool | None = None
    address: bool | None = None
    household: bool = False  # lives with a person the same row names for certain

    @property
    def strong_name(self) -> bool:
        """The names agree and the kana does not disagree."""
        return bool(self.name) and self.kana is not False

    @property
    def reason(self) -> str:
        """Which fields agreed, and how, e.g. 'name+kana+birth+sex+address'."""
        parts: list[str] = []
        if self.name:
            parts.append(self.name)
        if self.kana and self.name != "kana":
            parts.append("kana")
        if self.kana is False:
            parts.append("kana_near" if self.kana_near else "kana_differs")
        if self.given:
            parts.append(self.given)
        if self.birth:
            parts.append("birth" if self.birth == "exact" else f"birth_{self.birth}")
        if self.sex:
            parts.append("sex")
        if self.sex is False:
            parts.append("sex_differs")
        if self.address:
            parts.append("address")
        if self.household:
            parts.append("household")
        return "+".join(parts) or "none"


@dataclass(frozen=True, slots=True)
class Resolution:
    """Which person a reference is: the best candidate, the grade and why; `linked` only when it applies."""

    grade: MatchGrade
    person_id: str | None = None
    reason: str = ""
    candidates: tuple[Evidence, ...] = ()
    waiting_for: str = ""  # 'atena:<宛名番号>' or 'pupil:<学校コード>/<番号>' while that is not known yet

    @property
    def linked(self) -> str | None:
        """The person the reference links to automatically (grade certain), else None."""
        return self.person_id if self.grade is MatchGrade.CERTAIN else None

    @property
    def needs_review(self) -> bool:
        """Whether the answer waits in the review queue: probable, one person proposed or several to choose from."""
        return self.grade is MatchGrade.PROBABLE

    @property
    def proposed(self) -> tuple[str, ...]:
        """The persons a reviewer is offered: the proposed one, else every resident who fits alike."""
        if self.person_id is not None:
            return (self.person_id,)
        return tuple(e.person_id for e in self.candidates) if self.needs_review else ()


NO_MATCH = Resolution(grade=MatchGrade.NO_MATCH, reason="no_candidate")


@dataclass(frozen=True, slots=True)
class _Form:
    """The matching forms of one side (a resident's or a reference's)."""

    names: tuple[str, ...]
    families: tuple[str, ...]
    kanas: tuple[str, ...]
    given_kanas: tuple[str, ...]
    sex: str
    birth: str
    birth_raw: str
    address: str
    givens: tuple[str, ...] = ()


def _resident_form(resident: Resident) -> _Form:
    kanas = tuple(dict.fromkeys(k for k in (kana_key(k) for k in resident.kanas) if k))
    split = [split_name(n) for n in resident.names if n]
    given_kanas = [g for _, g in (split_name(k) for k in resident.kanas) if g]
    return _Form(
        names=tuple(dict.fromkeys(k for k in (name_key(n) for n in resident.names) if k)),
        families=tuple(dict.fromkeys(name_key(family) for family, _ in split)),
        kanas=kanas,
        given_kanas=tuple(dict.fromkeys(kana_key(g) for g in given_kanas)),
        sex=sex_code(resident.sex),
        birth=birth_key(resident.birth_iso, resident.birth_raw),
        birth_raw=resident.birth_raw,
        address=address_key(resident.address),
        givens=tuple(dict.fromkeys(name_key(given) for _, given in split if given)),
    )


def _reference_form(reference: Reference) -> _Form:
    key = name_key(reference.name)
    return _Form(
        names=(key,) if key else (),
        families=(name_key(split_name(reference.name)[0]),) if reference.name else (),
        kanas=(kana_key(reference.name_kana),) if reference.name_kana.strip() else (),
        given_kanas=(kana_key(given_kana),) if (given_kana := split_name(reference.name_kana)[1]) else (),
        sex=sex_code(reference.sex),
        birth=birth_key(reference.birth_iso, reference.birth_raw),
        birth_raw=reference.birth_raw,
        address=address_key(reference.address),
        givens=(name_key(given),) if (given := split_name(reference.name)[1]) else (),
    )


def _birth_parts(iso: str, raw: str) -> tuple[str, ...]:
    """'y:<year>' and 'd:<MMDD>' of a birth date: a name with one of them still finds a birth date typed wrong."""
    digits = "".join(c for c in raw if c.isdigit()) if not iso else iso.replace("-", "")
    parts: list[str] = []
    if len(digits) == 8 and digits[:4] != "0000":
        parts.append(f"y:{digits[:4]}")
        if iso:
            parts.append(f"d:{digits[4:]}")
    return tuple(parts)


def _family_keys(name: str) -> tuple[str, ...]:
    """A typed name's possible family names: before the space, else each of its first one to four characters."""
    family, given = split_name(name)
    if given:
        return (name_key(family),)
    key = name_key(name)
    return tuple(key[:n] for n in range(1, min(4, len(key) - 1) + 1))


def blocking_keys(reference: Reference) -> tuple[str, ...]:
    """The keys a reference's candidates must share one of.

    With a birth date: the name or the kana with the year or the month and day ('n:…|y:…'), so a typo in one part
    of the date is still found, and the family name with the whole date ('f:…|b:…', for a given name typed in
    kana); never a name or a date alone, which can make blocks of thousands. The given name or its kana with the
    whole date ('g:…|b:…', 'gk:…|b:…') finds a child whose family name changed (divorce, adoption) on one side only.
    Without a birth date: the name ('n:') or the kana ('k:'). A registered name holding a 外字 is filed with the
    marker in its place, so a typed name is also looked up with each of its characters in turn replaced by the
    marker.
    """
    form = _reference_form(reference)
    names = [k for k in form.names if GAIJI not in k]
    for k in form.names:
        names += [f"{k[:i]}{GAIJI}{k[i + 1 :]}" for i in range(len(k))]
    plain = [f"n:{k}" for k in names] + [f"k:{k}" for k in form.kanas]
    if not form.birth:
        return tuple(plain)
    parts = _birth_parts(form.birth, form.birth_raw)
    families = _family_keys(reference.name) if reference.name else ()
    return (
        *(f"{key}|{part}" for key in plain for part in parts),
        *(f"f:{family}|b:{form.birth}" for family in families),
        *_given_keys(form),
    )


def resident_keys(resident: Resident) -> tuple[str, ...]:
    """The blocking keys a resident is filed under: every name and kana carried, alone and with the birth parts."""
    return _form_keys(_resident_form(resident))


def _form_keys(form: _Form) -> tuple[str, ...]:
    plain = [f"n:{k}" for k in form.names] + [f"k:{k}" for k in form.kanas]
    parts = _birth_parts(form.birth, form.birth_raw)
    keys = [*plain, *(f"{key}|{part}" for key in plain for part in parts)]
    if form.birth:
        keys += [f"f:{family}|b:{form.birth}" for family in form.families if family]
        keys += _given_keys(form)
    return tuple(keys)


def _given_keys(form: _Form) -> list[str]:
    if not form.birth:
        return []
    return [f"g:{g}|b:{form.birth}" for g in form.givens if g] + [
        f"gk:{g}|b:{form.birth}" for g in form.given_kanas if g
    ]


def _name_agreement(ref: _Form, res: _Form) -> str:
    if not ref.names:
        return "kana" if ref.kanas and set(ref.kanas) & set(res.kanas) else ""
    key = ref.names[0]
    for index, resident_name in enumerate(res.names):
        if key == resident_name:
            return "name" if index == 0 else "former_name"
        if GAIJI in resident_name and names_agree(key, resident_name):
            return "gaiji_name"
    if is_kana(key) and key in res.kanas:
        return "kana_name"
    # A family name in kanji and a given name in kana (the support centre types a child's given name so).
    for family in res.families:
        rest = key[len(family) :] if family and key.startswith(family) else ""
        if is_kana(rest) and rest in res.given_kanas:
            return "kana_given"
    return ""


def _birth_agreement(ref: _Form, res: _Form) -> str:
    if not ref.birth:
        return ""
    if res.birth:
        if ref.birth == res.birth:
            return "exact"
        ry, rm, rd = ref.birth.split("-")
        sy, sm, sd = res.birth.split("-")
        same = (ry == sy) + (rm == sm) + (rd == sd)
        if same == 2 or (ry == sy and rm == sd and rd == sm) or _one_day_apart(ref.birth, res.birth):
            return "near"
        return "differs"
    if res.birth_raw and partial_birth_agrees(ref.birth, res.birth_raw):
        return "partial"
    return "differs" if res.birth_raw else ""


def _one_day_apart(a: str, b: str) -> bool:
    """A day typed one off across a month's end (03-31 for 04-01)."""
    try:
        return abs((date.fromisoformat(a) - date.fromisoformat(b)).days) == 1
    except ValueError:
        return False


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether two kana differ by one character replaced, dropped or added."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def _given_agreement(ref: _Form, res: _Form) -> str:
    if ref.givens and set(ref.givens) & set(res.givens):
        kana_ok = not (ref.given_kanas and res.given_kanas) or bool(set(ref.given_kanas) & set(res.given_kanas))
        return "given" if kana_ok else ""
    if ref.given_kanas and set(ref.given_kanas) & set(res.given_kanas):
        return "given_kana"
    return ""


def compare(reference: Reference, resident: Resident) -> Evidence:
    """How a reference compares with a resident."""
    return _compare(_reference_form(reference), _resident_form(resident), resident.person_id)


def _compare(ref: _Form, res: _Form, person_id: str) -> Evidence:
    birth = _birth_agreement(ref, res)
    if birth == "differs":
        # No grade takes a resident born on another day: the other fields need no comparison.
        return Evidence(person_id=person_id, birth=birth)
    kana: bool | None = None
    if ref.kanas and res.kanas:
        kana = bool(set(ref.kanas) & set(res.kanas))
    name = _name_agreement(ref, res)
    return Evidence(
        person_id=person_id,
        name=name,
        kana=kana,
        kana_near=kana is False and any(_one_edit_apart(a, b) for a in ref.kanas for b in res.kanas),
        given="" if name else _given_agreement(ref, res),
        birth=birth,
        sex=(ref.sex == res.sex) if ref.sex and res.sex else None,
        address=(ref.address == res.address) if ref.address and res.address else None,
    )


class ResidentIndex:
    """Residents filed by blocking key, 宛名番号 and household: what a reference's candidates are drawn from."""

    def __init__(self, residents: Iterable[Resident] = ()) -> None:
        self._residents: dict[str, Resident] = {}
        self._forms: dict[str, _Form] = {}
        self._held: dict[str, tuple[str, ...]] = {}
        self._keys: dict[str, tuple[str, ...]] = {}
        self._blocks: dict[str, set[str]] = defaultdict(set)
        self._atena: dict[str, str] = {}
        self._households: dict[str, set[str]] = defaultdict(set)
        self._towns: Counter[str] = Counter()
        for resident in residents:
            self.add(resident)

    def __len__(self) -> int:
        return len(self._residents)

    def add(self, resident: Resident) -> None:
        """File a resident (again, replacing what was filed for the same person)."""
        self.remove(resident.person_id)
        pid = resident.person_id
        form = _resident_form(resident)
        keys = _form_keys(form)
        self._residents[pid] = resident
        self._forms[pid] = form
        self._held[pid] = resident.households
        self._keys[pid] = keys
        for key in keys:
            self._blocks[key].add(pid)
        if resident.atena_no:
            self._atena[resident.atena_no] = pid
        for code in resident.households:
            self._households[code].add(pid)
        town = municipality_of(resident.address)
        if town:
            self._towns[town] += 1

    def remove(self, person_id: str) -> None:
        """Forget a resident (a merge moves their records to the survivor)."""
        resident = self._residents.pop(person_id, None)
        if resident is None:
            return
        for key in self._keys.pop(person_id, ()):
            self._blocks[key].discard(person_id)
        self._forms.pop(person_id, None)
        self._held.pop(person_id, None)
        if resident.atena_no and self._atena.get(resident.atena_no) == person_id:
            del self._atena[resident.atena_no]
        if resident.setai_code:
            self._households[resident.setai_code].discard(person_id)
        town = municipality_of(resident.address)
        if town:
            self._towns[town] -= 1

    def get(self, person_id: str) -> Resident | None:
        """A filed resident."""
        return self._residents.get(person_id)

    def by_atena(self, atena_no: str) -> Resident | None:
        """The resident of a 宛名番号."""
        pid = self._atena.get(atena_no)
        return self._residents[pid] if pid is not None else None

    def home_towns(self) -> set[str]:
        """The municipalities the residents live in (a reference from elsewhere names nobody here)."""
        return {town for town, count in self._towns.items() if count > 0}

    def candidates(self, reference: Reference) -> list[str]:
        """Person ids sharing at least one blocking key with the reference.

        A block larger than MAX_BLOCK (a family name on a day many were born) is skipped while a smaller key of the
        reference remains: the name keys still find the person, and the cost stays bounded.
        """
        blocks = [b for b in (self._blocks.get(key) for key in blocking_keys(reference)) if b]
        small = [b for b in blocks if len(b) <= MAX_BLOCK] or sorted(blocks, key=len)[:1]
        found: set[str] = set()
        for block in small:
            found |= block
        return sorted(found)

    def evidence(self, reference: Reference, person_ids: Iterable[str]) -> list[Evidence]:
        """The comparison of a reference with each of these residents."""
        ref = _reference_form(reference)
        return [_compare(ref, self._forms[pid], pid) for pid in person_ids if pid in self._forms]

    def households_of(self, person_id: str) -> tuple[str, ...]:
        """Every 世帯コード a filed resident has held."""
        return self._held.get(person_id, ())

    def household(self, setai_code: str) -> list[str]:
        """Person ids of everyone who has held this 世帯コード."""
        return sorted(self._households.get(setai_code, ()))


RollLookup = Callable[[str, str, str], Resolution | None]


def _no_roll(school_code: str, student_no: str, month: str) -> Resolution | None:
    return None


def _outside_town(reference: Reference, index: ResidentIndex) -> bool:
    town = municipality_of(reference.address)
    home = index.home_towns()
    return bool(town and home and town not in home)


def _pick(tier: Sequence[Evidence], *, grade_one: MatchGrade) -> Resolution | None:
    if not tier:
        return None
    if len(tier) == 1:
        best = tier[0]
        return Resolution(grade=grade_one, person_id=best.person_id, reason=best.reason, candidates=tuple(tier))
    if grade_one is MatchGrade.POSSIBLE:
        return Resolution(grade=MatchGrade.POSSIBLE, reason=f"ambiguous:{len(tier)}", candidates=tuple(tier))
    # Several residents fit alike (namesakes born on one day, twins typed alike): never an automatic link.
    # One of them living at the address given is proposed; else staff choose among them in review.
    by_address = [e for e in tier if e.address]
    if len(by_address) == 1:
        best = by_address[0]
        return Resolution(
            grade=MatchGrade.PROBABLE,
            person_id=best.person_id,
            reason=f"{best.reason}+ambiguous:{len(tier)}",
            candidates=tuple(tier),
        )
    return Resolution(grade=MatchGrade.PROBABLE, reason=f"ambiguous:{len(tier)}", candidates=tuple(tier))


def grade_reference(
    reference: Reference,
    index: ResidentIndex,
    *,
    rejected: frozenset[str] = frozenset(),
    households: frozenset[str] = frozenset(),
) -> Resolution:
    """Grade a reference on 基本4情報 against the residents it shares a blocking key with.

    `rejected` are persons staff ruled out for this reference (certainly-not: never proposed again);
    `households` are the 世帯コード of persons the same row names for certain (a guardian named without a birth
    date is certain when exactly one member of the child's household carries that name).
    """
    pids = [pid for pid in index.candidates(reference) if pid not in rejected]
    evidence = [
        _with_household(e) if households.intersection(index.households_of(e.person_id)) else e
        for e in index.evidence(reference, pids)
    ]
    outside = _outside_town(reference, index)
    resolution = _grade(reference, evidence)
    if outside and resolution.grade in (MatchGrade.CERTAIN, MatchGrade.PROBABLE):
        return Resolution(
            grade=MatchGrade.POSSIBLE,
            person_id=None,
            reason="address_outside_town",
            candidates=resolution.candidates,
        )
    if outside and resolution.grade is MatchGrade.NO_MATCH:
        return Resolution(grade=MatchGrade.NO_MATCH, reason="address_outside_town")
    if rejected and resolution.grade is MatchGrade.CERTAIN:
        # Staff ruled a fitting person out: whoever is left is for them to confirm, not linked automatically.
        return replace(resolution, grade=MatchGrade.PROBABLE, reason=f"{resolution.reason}+after_rejection")
    return resolution


def _with_household(e: Evidence) -> Evidence:
    return Evidence(
        person_id=e.person_id,
        name=e.name,
        kana=e.kana,
        kana_near=e.kana_near,
        given=e.given,
        birth=e.birth,
        sex=e.sex,
        address=e.address,
        household=True,
    )


def _grade(reference: Reference, evidence: list[Evidence]) -> Resolution:
    if not evidence:
        return NO_MATCH
    has_birth = bool(birth_key(reference.birth_iso, reference.birth_raw))
    sex_ok = [e for e in evidence if e.sex is not False]
    if has_birth:
        exact = [e for e in sex_ok if e.strong_name and e.birth == "exact"]
        typo = [e for e in evidence if _one_typo_from_certain(e)]
        review = _for_review(evidence)
        rivals = {e.person_id for e in review if e.name or e.address or e.household}
        if exact or (len(typo) == 1 and rivals == {typo[0].person_id}):
            # One typo with every other field agreeing is certain only when nobody else of that name or at that
            # address fits even loosely. Beside an exact match it makes the answer ambiguous, except that other
            # kanji of the same reading at the address do not outweigh the very kanji there (twins named alike).
            if any(e.address for e in exact):
                typo = [e for e in typo if e.name]
            found = _pick(list({e.person_id: e for e in [*typo, *exact]}.values()), grade_one=MatchGrade.CERTAIN)
            if found is not None:
                return found
        found = _pick(review, grade_one=MatchGrade.PROBABLE)
        if found is not None:
            return found
        loose = [e for e in sex_ok if e.birth == "exact" and e.sex and (e.name or e.kana or e.address)]
        found = _pick(loose, grade_one=MatchGrade.POSSIBLE)
        if found is not None:
            return found
        return Resolution(grade=MatchGrade.NO_MATCH, reason="no_candidate_agrees", candidates=tuple(evidence))
    named = [e for e in sex_ok if e.strong_name]
    at_home = [e for e in named if e.household]
    found = _pick(at_home, grade_one=MatchGrade.CERTAIN)
    if found is not None:
        return found
    found = _pick(named, grade_one=MatchGrade.PROBABLE)
    if found is not None:
        return found
    return Resolution(grade=MatchGrade.NO_MATCH, reason="no_candidate_agrees", candidates=tuple(evidence))


def _one_typo_from_certain(e: Evidence) -> bool:
    """Sex and address agree, and one field is typed otherwise: the kanji (kana and birth date agree), or the kana or
    the birth date one typo off (the kanji name and the other agree)."""
    if not e.sex or not e.address:
        return False
    if not e.name:
        # The kanji typed otherwise (a variant or another character of the same reading): the kana decides.
        return e.kana is True and e.birth == "exact"
    if e.name != "name":
        return False
    return (e.kana_near and e.birth == "exact") or (e.kana is True and e.birth == "near")


def _for_review(evidence: Sequence[Evidence]) -> list[Evidence]:
    """The residents a reviewer is offered when nobody is certain: each fits on most fields, one of them typed wrong.

    A birth date off by a typo; the name with its kana one character off; the family name changed on one side
    (divorce, adoption) with the given name, birth date and sex agreeing; 男/女 swapped with everything else agreeing;
    or name or kana with the birth date and the address or household.
    """
    chosen: list[Evidence] = []
    for e in evidence:
        sex_ok = e.sex is not False
        exact = e.birth == "exact"
        if (
            (sex_ok and e.strong_name and e.birth in ("partial", "near"))
            or (sex_ok and exact and e.name and e.kana_near)
            or (exact and e.sex is True and e.given)
            or (exact and e.sex is False and e.strong_name and e.kana is True)
            or (sex_ok and exact and (e.name or e.kana or e.kana_near) and (e.address or e.household))
        ):
            chosen.append(e)
    return chosen


def resolve_row(
    row: SourceRow,
    index: ResidentIndex,
    *,
    roll: RollLookup = _no_roll,
    rejected: dict[int, frozenset[str]] | None = None,
) -> tuple[Resolution, ...]:
    """Resolve every reference of a row: 宛名番号 first, then pupil keys, 基本4情報, and names in context."""
    rejected = rejected or {}
    answers: list[Resolution | None] = [None] * len(row.references)
    for i, ref in enumerate(row.references):
        if ref.atena_no:
            resident = index.by_atena(ref.atena_no)
            answers[i] = (
                Resolution(grade=MatchGrade.CERTAIN, person_id=resident.person_id, reason="atena_no")
                if resident is not None and resident.person_id not in rejected.get(i, frozenset())
                else Resolution(
                    grade=MatchGrade.NO_MATCH, reason="atena_no_unknown", waiting_for=f"atena:{ref.atena_no}"
                )
            )
        elif ref.only_pupil_key:
            code, number = ref.school_code, ref.student_no
            entry = roll(code, number, row.month)
            answers[i] = (
                _via_roll(entry)
                if entry is not None
                else Resolution(
                    grade=MatchGrade.NO_MATCH, reason="pupil_key_unknown", waiting_for=f"pupil:{code}/{number}"
                )
            )
        elif birth_key(ref.birth_iso, ref.birth_raw):
            answers[i] = grade_reference(ref, index, rejected=rejected.get(i, frozenset()))
    households = frozenset(
        code for a in answers if a is not None and a.linked is not None for code in index.households_of(a.linked)
    )
    for i, ref in enumerate(row.references):
        if answers[i] is None:
            answers[i] = grade_reference(ref, index, rejected=rejected.get(i, frozenset()), households=households)
    done = [a if a is not None else NO_MATCH for a in answers]
    strangers = any(a.grade is MatchGrade.NO_MATCH and not a.waiting_for for a in done)
    for i, (ref, answer) in enumerate(zip(row.references, done, strict=True)):
        # A name alone, beside someone the town does not know (a visiting family): not worth a reviewer's time.
        if strangers and answer.needs_review and not birth_key(ref.birth_iso, ref.birth_raw) and not ref.atena_no:
            done[i] = Resolution(
                grade=MatchGrade.POSSIBLE, reason=f"{answer.reason}+co_reference_unknown", candidates=answer.candidates
            )
    for i, answer in enumerate(done):
        if answer.person_id is None and answer.reason.startswith("ambiguous"):
            others = [r for j, r in enumerate(row.references) if j != i and r.name and not r.atena_no]
            done[i] = _by_co_reference(answer, others, index)
    return tuple(done)


def _by_co_reference(answer: Resolution, others: Sequence[Reference], index: ResidentIndex) -> Resolution:
    """Of residents who fit alike, the one whose household holds someone the same row names (for review only)."""
    fitting = []
    for candidate in answer.candidates:
        members = {pid for code in index.households_of(candidate.person_id) for pid in index.household(code)}
        members.discard(candidate.person_id)
        if any(e.strong_name for other in others for e in index.evidence(other, sorted(members))):
            fitting.append(candidate)
    if len(fitting) != 1:
        return answer
    return Resolution(
        grade=MatchGrade.PROBABLE,
        person_id=fitting[0].person_id,
        reason=f"{fitting[0].reason}+co_reference_household+{answer.reason}",
        candidates=answer.candidates,
    )


def _via_roll(entry: Resolution) -> Resolution:
    return Resolution(
        grade=entry.grade,
        person_id=entry.person_id,
        reason=f"pupil_key>{entry.reason}",
        candidates=entry.candidates,
    )


@dataclass
class RollBook:
    """The pupil of each (学校コード, 児童生徒番号) on the roll of each month, as resolved."""

    entries: dict[tuple[str, str], dict[str, Resolution]] = field(default_factory=dict)

    def enter(self, school_code: str, student_no: str, *, month: str, resolution: Resolution) -> None:
        """Remember the resolution of a roll entry."""
        self.entries.setdefault((school_code, student_no), {})[month] = resolution

    def lookup(self, school_code: str, student_no: str, month: str) -> Resolution | None:
        """The roll entry's pupil in the same month, else in the latest month known."""
        months = self.entries.get((school_code, student_no))
        if not months:
            return None
        return months.get(month) or months[max(months)]


def is_roll_entry(reference: Reference) -> bool:
    """Whether a reference is a pupil on a roll: a pupil key and a name."""
    return reference.pupil_key is not None and bool(reference.name or reference.name_kana)


def resolve_batch(residents: Iterable[Resident], rows: Iterable[SourceRow]) -> dict[str, tuple[Resolution, ...]]:
    """Resolve every reference of many rows against many residents (bench and offline use): row key → answers."""
    index = ResidentIndex(residents)
    ordered = sorted(rows, key=lambda r: not any(is_roll_entry(ref) for ref in r.references))
    book = RollBook()
    out: dict[str, tuple[Resolution, ...]] = {}
    for row in ordered:
        answers = resolve_row(row, index, roll=book.lookup)
        for ref, answer in zip(row.references, answers, strict=True):
            if is_roll_entry(ref):
                book.enter(ref.school_code, ref.student_no, month=row.month, resolution=answer)
        out[row.key] = answers
    return out


def link_references(residents: Iterable[Resident], references: Sequence[Reference]) -> list[Resolution]:
    """Resolve references each on its own (no row context) against residents: one answer per reference."""
    rows = [SourceRow(key=str(i), source="", references=(ref,)) for i, ref in enumerate(references)]
    answers = resolve_batch(residents, rows)
    return [answers[str(i)][0] for i in range(len(references))]
