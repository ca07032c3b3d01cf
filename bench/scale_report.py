"""The figures bench/scale.py measures, and the table of issue 12's goals it prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from bridge.qq.client import ClientSettings

# Seconds: the longest an idle client waits, with the simulator's (and the seeds') HI=60, LI=300.
SESSION_LIMIT = ClientSettings().max_silence(heartbeat=60, lapse=300)
MAX_POLL_INTERVAL = 2.0  # the example config's qq.max_poll_interval
GOAL_RSS_KIB = 100.0
GOAL_SERVING_S = 5.0


@dataclass
class Figures:
    n: int
    budget: float
    login_rate: float
    chosen_uin: int
    users_created: float = 0.0
    seeded: float = 0.0
    rss_empty: int = 0
    serving: float = 0.0
    serving_empty: float = 0.0  # the same bridge on an empty store: imports, Synapse, the bot
    online: float = 0.0
    logins_done: float = 0.0
    login_average: float = 0.0  # logins per second, from the first to the last
    login_peak: float = 0.0  # the most logins in any one second
    idle_cpu: float = 0.0  # fraction of a core
    idle_polls: float = 0.0  # GetMsgEx per second
    rss: int = 0
    to_matrix: float | None = None
    to_qq: float | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def idle_interval(self) -> float:
        """How often an idle account polls: the budget's share, within its bounds."""
        share = self.n / self.budget if self.budget else 0.0
        return min(max(MAX_POLL_INTERVAL, share), SESSION_LIMIT)

    @property
    def worst_case(self) -> float:
        """The longest a message to an idle account waits before the bridge polls it."""
        return self.idle_interval

    @property
    def rss_per_account_kib(self) -> float:
        return (self.rss - self.rss_empty) / self.n / 1024


def print_report(f: Figures) -> None:
    per_k = 1000 / f.n
    rows: list[tuple[str, str, str, str]] = []  # figure, value, goal, verdict

    def row(name: str, value: str, goal: str, met: bool | None, why: str = "") -> None:
        verdict = "-" if met is None else ("met" if met else f"NOT MET: {why}")
        rows.append((name, value, goal, verdict))

    row(
        "accounts bridged, online",
        f"{f.online:.0f} / {f.n}",
        "all",
        f.online >= f.n,
        "some logins never resumed",
    )
    row(
        "start to serving (N users, N-1 portals)",
        f"{f.serving:.2f} s",
        f"<= {GOAL_SERVING_S:.0f} s",
        f.serving <= GOAL_SERVING_S,
        "start-up work grows with the store",
    )
    row("  the same bridge on an empty store", f"{f.serving_empty:.2f} s", "", None)
    row(
        "start to every login resumed",
        f"{f.logins_done:.1f} s",
        f"~ N / qq.login_rate = {f.n / f.login_rate:.0f} s",
        None,
    )
    row(
        "logins per second, average / peak second",
        f"{f.login_rate:.0f} / {f.login_peak:.0f}",
        f"paced at {f.login_rate:.0f}/s, no burst",
        f.login_peak <= 2 * f.login_rate,
        "logins came in a burst",
    )
    row(
        "RSS per account (over an empty bridge)",
        f"{f.rss_per_account_kib:.1f} KiB",
        f"<= {GOAL_RSS_KIB:.0f} KiB",
        f.rss_per_account_kib <= GOAL_RSS_KIB,
        "per-account objects too large",
    )
    row(
        "bridge RSS, empty / with N accounts",
        f"{f.rss_empty / 2**20:.0f} / {f.rss / 2**20:.0f} MiB",
        "",
        None,
    )
    within = f.idle_polls <= f.budget * 1.1 or not f.budget
    why = (
        f"N / budget = {f.n / f.budget:.0f} s is longer than the {SESSION_LIMIT:.0f} s a QQ "
        f"session may stay silent, so keeping {f.n} sessions alive alone takes "
        f"{f.n / SESSION_LIMIT:.0f} polls/s"
        if f.budget and f.n / f.budget > SESSION_LIMIT
        else "polls beyond the budget"
    )
    row(
        "idle GetMsgEx per second (all / per 1,000)",
        f"{f.idle_polls:.0f} / {f.idle_polls * per_k:.1f}",
        f"<= qq.idle_poll_budget {f.budget:.0f}",
        within,
        why,
    )
    row(
        "idle bridge CPU (all / per 1,000 accounts)",
        f"{100 * f.idle_cpu:.1f} / {100 * f.idle_cpu * per_k:.2f} % core",
        "",
        None,
    )
    row("idle poll interval = worst-case delay", f"{f.idle_interval:.1f} s", "documented", None)
    delivered = f.to_matrix is not None and f.to_matrix <= f.worst_case + 10
    row(
        f"QQ -> Matrix through {f.chosen_uin} (new portal)",
        "lost" if f.to_matrix is None else f"{f.to_matrix:.1f} s",
        f"<= worst case {f.worst_case:.0f} s + room creation",
        delivered,
        "the message was lost or late",
    )
    row(
        "Matrix -> QQ, the reply",
        "lost" if f.to_qq is None else f"{f.to_qq:.2f} s",
        "arrives",
        f.to_qq is not None,
        "the reply was lost",
    )

    print()
    print(f"N = {f.n} bridged QQ accounts in one bridge process")
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for name, value, goal, verdict in rows:
        print(f"{name:<{widths[0]}}  {value:>{widths[1]}}  {goal:<{widths[2]}}  {verdict}")
    print(f"bridge warnings logged: {len(f.warnings)}")
    for line in f.warnings[:10]:
        print("  " + line)
    for problem in f.problems:
        print("PROBLEM: " + problem)
