"""The synthetic town's state: persons, households and what each source system records about them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from mimamori.synthtown.addresses import Address
from mimamori.synthtown.months import Month, age_on

Cell = str | int | date | None
"""One field of an export row: text, a number, or a real date (an Excel date cell)."""


@dataclass(frozen=True)
class PersonRef:
    """A person a row names (by 宛名番号 or by name) and the role they play in the row."""

    truth_id: str
    role: str


@dataclass(frozen=True)
class Row:
    """One data row of an export file with the persons it references."""

    cells: tuple[Cell, ...]
    refs: tuple[PersonRef, ...]


@dataclass(frozen=True)
class FamilyName:
    """A family name as other systems type it (`common`) and as the register holds it (`legal`)."""

    common: str
    legal: str
    kana: str


@dataclass(frozen=True)
class GivenName:
    common: str
    legal: str
    kana: str


@dataclass(eq=False)
class Person:
    """One synthetic human being. Mutable: the monthly simulation moves, renames and removes persons."""

    truth_id: str
    atena: str | None  # None: not a resident of the town (never registered)
    atena_standard: bool
    family: FamilyName
    given: GivenName
    sex: int  # 1 男, 2 女
    birth: date
    recorded_birth: str  # as 住民記録 holds it: may be partly unknown (19500000) or off the calendar
    household: Household | None
    relation: str  # 続柄 to the head of household
    resident_since: date
    change_reason: str  # 異動事由
    change_date: date
    removed: bool = False  # 消除: moved out or died
    dv_support: bool = False  # 支援措置
    outside_address: Address | None = None  # where a non-resident lives; the last address of a 消除
    former_family_names: list[str] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)
    attendance_profile: str = "steady"
    tardy_plan: tuple[int, ...] | None = None  # 遅刻 per delivered month, for planted scenarios
    support_plan: tuple[str, ...] | None = None  # planted support contacts; None: random ones

    @property
    def name(self) -> str:
        """Common form, as other systems type it."""
        return f"{self.family.common}　{self.given.common}"

    @property
    def legal_name(self) -> str:
        """Registered characters, as 基幹系 holds them."""
        return f"{self.family.legal}　{self.given.legal}"

    @property
    def kana(self) -> str:
        """Full-width katakana, family and given name separated by a full-width space."""
        return f"{self.family.kana}　{self.given.kana}"

    @property
    def address(self) -> Address:
        if self.removed and self.outside_address is not None:
            return self.outside_address
        if self.household is not None:
            return self.household.address
        if self.outside_address is None:
            raise ValueError(f"{self.truth_id} has no address")
        return self.outside_address

    @property
    def is_resident(self) -> bool:
        return self.atena is not None and not self.removed

    def age(self, on: date) -> int:
        return age_on(self.birth, on)

    def enrolment_on(self, day: date) -> Enrolment | None:
        """The school enrolment that holds `day`."""
        for enrolment in self.enrolments:
            if enrolment.start <= day and (enrolment.end is None or day <= enrolment.end):
                return enrolment
        return None


@dataclass(eq=False)
class Household:
    code: str  # 世帯コード
    address: Address
    members: list[Person] = field(default_factory=list)  # current members; removed persons leave
    scenario: str | None = None  # planted young-carer scenario, kept free of random events
    economy: str = "middle"  # seiho / low / middle / high: drives 課税区分 and benefits
    support_centre_user: bool = False  # visits the 子育て支援センター while it has pre-school children

    @property
    def head(self) -> Person:
        return next(member for member in self.members if member.relation == "世帯主")


@dataclass(frozen=True)
class School:
    code: str  # 学校コード
    name: str
    level: str  # 小 or 中
    districts: tuple[str, ...]  # 通学区域 (大字)


@dataclass(eq=False)
class Enrolment:
    school: School
    student_no: str  # 児童生徒番号: unique within the school, new at every school
    class_no: int
    start: date
    end: date | None = None


@dataclass(frozen=True)
class Facility:
    code: str
    name: str
    kubun: tuple[str, ...]


# What each source system records. Append-only facts are LogEntry; facts that change later are typed.


@dataclass(frozen=True)
class LogEntry:
    """A fact recorded once and never changed (a consultation, an attendance mark …)."""

    on: date  # the day the system learnt it
    cells: tuple[Cell, ...]
    refs: tuple[PersonRef, ...]


@dataclass(eq=False)
class ChildAllowance:
    """児童手当, one per (recipient, child)."""

    recipient: Person
    child: Person
    start: Month  # 支給開始年月
    recorded: Month  # the month the office decided it (the month before the start)
    end: Month | None = None  # 支給終了年月


@dataclass(eq=False)
class FuyouQualification:
    """児童扶養手当 受給資格."""

    recipient: Person
    certified: date
    kubun: str  # 全部支給 / 一部支給 / 全部停止
    children: int
    lost: date | None = None  # 喪失日: first day without the right


@dataclass(eq=False)
class HitorioyaIryo:
    """ひとり親家庭等医療費助成, one per (recipient, 対象者)."""

    recipient: Person
    subject: Person
    start: date
    recorded: date
    end: date | None = None  # 資格喪失日: first day without the right


@dataclass(eq=False)
class Techo:
    """障害者手帳."""

    holder: Person
    kind: str  # 身体 / 療育 / 精神
    grade: str
    issued: date
    expiry: date | None = None  # 有効期限: last valid day


@dataclass(eq=False)
class ServiceDecision:
    """障害福祉サービス・障害児通所支援 支給決定."""

    person: Person
    kind: str
    start: date
    end: date  # last valid day
    recorded: date


@dataclass(eq=False)
class HoikuEnrolment:
    """保育所等在籍."""

    child: Person
    facility: Facility
    kubun: str  # 1号 / 2号 / 3号
    start: date
    end: date | None = None  # 退所日: last day


@dataclass(eq=False)
class HealthCheck:
    """母子保健 健診: the child's, or the mother's for 妊婦/産婦."""

    person: Person
    kind: str
    target: Month
    exam_date: date | None  # None: 未受診
    result: str
    epds: int | None
    note: str


@dataclass(frozen=True)
class TaxAssessment:
    person: Person
    nendo: int  # 年度 (decided in June of that year)
    kubun: str
    income: int


@dataclass(eq=False)
class WelfareCase:
    """生活保護: cells as staff typed them when the case opened."""

    case_no: str
    head: Person
    members: tuple[Person, ...]
    head_name: str
    head_birth: Cell
    address: str
    size: int
    start: date
    start_cell: Cell
    end: date | None = None
    end_cell: Cell = None


@dataclass(eq=False)
class AbuseReport:
    """虐待通告: cells as typed on receipt; the 対応状況 moves on over time."""

    child: Person
    received: date
    cells: tuple[Cell, ...]  # 受付日 … 種別
    statuses: list[tuple[date, str]]

    def status_on(self, day: date) -> str:
        return [status for since, status in self.statuses if since <= day][-1]


@dataclass
class Town:
    """Everything the simulation knows; exports read it month by month."""

    municipality_code: str
    noise: bool
    persons: list[Person] = field(default_factory=list)
    households: list[Household] = field(default_factory=list)
    schools: tuple[School, ...] = ()
    facilities: tuple[Facility, ...] = ()
    child_allowances: list[ChildAllowance] = field(default_factory=list)
    fuyou: list[FuyouQualification] = field(default_factory=list)
    iryo: list[HitorioyaIryo] = field(default_factory=list)
    techo: list[Techo] = field(default_factory=list)
    services: list[ServiceDecision] = field(default_factory=list)
    hoiku: list[HoikuEnrolment] = field(default_factory=list)
    health_checks: list[HealthCheck] = field(default_factory=list)
    taxes: list[TaxAssessment] = field(default_factory=list)
    welfare_cases: list[WelfareCase] = field(default_factory=list)
    abuse_reports: list[AbuseReport] = field(default_factory=list)
    # Append-only logs by source: ninshin, soudan, ssw_soudan, shugaku_enjo, kosodate_center,
    # koumu_shusseki, koumu_hokenshitsu.
    logs: dict[str, list[LogEntry]] = field(default_factory=dict)
    scenarios: dict[str, list[Person]] = field(default_factory=dict)  # tag → the scored children
    outsiders: list[tuple[Person, Person]] = field(default_factory=list)  # non-resident (parent, child)

    def log(self, source: str, entry: LogEntry) -> None:
        self.logs.setdefault(source, []).append(entry)

    def residents(self) -> list[Person]:
        return [person for person in self.persons if person.is_resident]
