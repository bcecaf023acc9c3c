"""The page's "what it shows": sentences computed from the tables, never typed in.

Each function takes the rows :mod:`page` computed (ranked target tables, background rows, published
claims) and returns sentences; which checkpoint leads, which rankings hold across the two target sets,
how the papers' own orders and numbers compare with the re-scored ones, and the split leakage behind
the differences.
"""

from __future__ import annotations

from typing import Any

from hse.report import fmt_num

Rows = list[dict[str, Any]]


def kendall(a: list[str], b: list[str]) -> float:
    """Kendall's tau between two orders of the same names (no ties): 1 same order, -1 reversed."""
    pos = {n: i for i, n in enumerate(b)}
    conc = disc = 0
    for i in range(len(a)):
        for j in range(i + 1, len(a)):
            if pos[a[i]] < pos[a[j]]:
                conc += 1
            else:
                disc += 1
    return (conc - disc) / (conc + disc) if conc + disc else float("nan")


def _f(x: Any, d: int = 3) -> str:
    return fmt_num(x, d)


def leaders(name: str, rows: Rows) -> str:
    top, last = rows[0], rows[-1]
    lead = [r["method"] for r in rows if r["rank"] == 1]
    shared = (
        f"{len(lead)} of {len(rows)} checkpoints share rank 1 ({', '.join(lead)})"
        if len(lead) > 1
        else "its lead over every other checkpoint is significant (paired test, 5%)"
    )
    return (
        f"On {name}, {top['method']} has the highest HSE ({_f(top['hse'])}, 95% CI {_f(top['hse_low'])}-"
        f"{_f(top['hse_high'])}); {shared}; the lowest is {last['method']} ({_f(last['hse'])}, rank {last['rank']})."
    )


def across(na: str, ra: Rows, nb: str, rb: Rows) -> list[str]:
    """Which rankings hold from one target set to the other."""
    oa, ob = [r["method"] for r in ra], [r["method"] for r in rb]
    rank_a, rank_b = {r["method"]: r["rank"] for r in ra}, {r["method"]: r["rank"] for r in rb}
    hse_a, hse_b = {r["method"]: r["hse"] for r in ra}, {r["method"]: r["hse"] for r in rb}
    both_first = [m for m in oa if rank_a[m] == 1 and rank_b[m] == 1]
    diff = {m: hse_b[m] - hse_a[m] for m in oa}
    lo, hi = min(diff, key=diff.get), max(diff, key=diff.get)
    out = [
        f"The HSE orders of {na} and {nb} agree with Kendall's tau = {kendall(oa, ob):.2f} (1: the same order, "
        f"-1: reversed); rank 1 on both: {', '.join(both_first) or 'none'}. HSE on {nb} minus HSE on {na} "
        f"ranges from {diff[lo]:+.3f} ({lo}) to {diff[hi]:+.3f} ({hi})."
    ]
    for base in ("ACM", "ALCNet"):
        full = f"{base}_full"
        lesps = [m for m in oa if m.startswith(f"{base}_LESPS")]
        if full not in hse_a or not lesps:
            continue
        parts = []
        for name, h in ((na, hse_a), (nb, hse_b)):
            above = [m for m in lesps if h[m] > h[full]]
            parts.append(f"{len(above)} of {len(lesps)} on {name}")
        out.append(
            f"{base} trained with LESPS point labels scores above the fully supervised {full}: "
            + ", ".join(parts)
            + f" (HSE on {na}: {full} {_f(hse_a[full])}, "
            + ", ".join(f"{m} {_f(hse_a[m])}" for m in lesps)
            + ")."
        )
    return out


def against_papers(claims: Rows, unseen: str, ru: Rows, ri: Rows, leak: tuple[int, int]) -> list[str]:
    """The papers' own orders and numbers beside the re-scored ones."""
    out = []
    iou_u = {r["method"]: r["iou"] for r in ru}
    iou_i = {r["method"]: r["iou"] for r in ri}
    paper = {c["checkpoint"]: float(c["iou"]) for c in claims if c["family"] == "lesps" and c["iou"]}
    if len(paper) > 1 and all(m in iou_u for m in paper):
        po = sorted(paper, key=lambda m: -paper[m])
        hu = sorted(paper, key=lambda m: -iou_u[m])
        d = [100 * iou_i[m] - paper[m] for m in paper]
        out.append(
            f"LESPS: the paper's IoU order of its six checkpoints (50_50/test, 214 images) and their IoU order at "
            f"0.5 on {unseen} agree with Kendall's tau = {kendall(po, hu):.2f}; the paper's best is {po[0]} "
            f"({paper[po[0]]:.2f}%), the best here is {hu[0]} ({100 * iou_u[hu[0]]:.2f}%). On idx_427/test, "
            f"where {leak[0]} of {leak[1]} images were in their training set, their IoU is {min(d):+.1f} to "
            f"{max(d):+.1f} points from the paper's."
        )
    for fam, label in (("repisd", "RepISD-Net"), ("rpcanet", "RPCANet")):
        cl = [c for c in claims if c["family"] == fam and c["iou"]]
        if cl and cl[0]["checkpoint"] in iou_i:
            c = cl[0]
            out.append(
                f"{label} claims IoU {float(c['iou']):.2f}% on idx_427/test ({c['source']}, its own code at "
                f"256x256); hse's protocol at the images' size gives {100 * iou_i[c['checkpoint']]:.2f}% on the "
                f"same images and {100 * iou_u[c['checkpoint']]:.2f}% on {unseen}."
            )
    return out


def background(bg: Rows, unseen: str, ru: Rows) -> list[str]:
    lo, hi = bg[0], bg[-1]
    ft = sorted(bg, key=lambda r: r["false_targets_per_frame"])
    by_fa = [r["method"] for r in bg]
    by_hse = [r["method"] for r in ru]
    return [
        f"On the background-only frames at p > 0.5, false-alarm pixels per megapixel range from "
        f"{_f(lo['fa_per_mpx'], 1)} ({lo['method']}) to {_f(hi['fa_per_mpx'], 1)} ({hi['method']}), false "
        f"targets per frame from {_f(ft[0]['false_targets_per_frame'], 2)} ({ft[0]['method']}) to "
        f"{_f(ft[-1]['false_targets_per_frame'], 2)} ({ft[-1]['method']}), and the share of frames with any "
        f"alarm from {100 * min(r['frames_with_alarm'] for r in bg):.0f}% to "
        f"{100 * max(r['frames_with_alarm'] for r in bg):.0f}%. Fewest false-alarm pixels first against "
        f"highest HSE on {unseen} first: Kendall's tau = {kendall(by_fa, by_hse):.2f}."
    ]


def why(leak: tuple[int, int]) -> str:
    return (
        f"Why the orders move: the papers measure on different splits (LESPS on 50_50/test; RepISD-Net and "
        f"RPCANet on idx_427/test), at different resolutions (RepISD-Net and RPCANet score 256x256 maps against "
        f"256x256 masks; here every map is scored against the original mask at the image's size) and with "
        f"different rules (RepISD-Net's Pd/Fa at p > 0.9, RPCANet's per-image relative threshold and any-overlap "
        f"Pd). Split leakage can favour the LESPS checkpoints on idx_427/test ({leak[0]} of {leak[1]} images were "
        f"among their training images); SIRST-v2 is unseen by all eight, so only its tables compare "
        f"generalisation."
    )


def with_backgrounds(nu: str, ru: Rows, nt: str, rt: Rows) -> str:
    """What adding the background frames to the target images changes."""
    hu, ht = {r["method"]: r["hse"] for r in ru}, {r["method"]: r["hse"] for r in rt}
    ou, ot = [r["method"] for r in ru], [r["method"] for r in rt]
    loss = {m: ht[m] - hu[m] for m in ou}
    worst = max(loss, key=loss.get)
    return (
        f"Adding the background frames ({nu}: target images and background frames together, the split as "
        f"published) against the target images alone ({nt}): the HSE orders agree with Kendall's tau = "
        f"{kendall(ou, ot):.2f}; {ou[0]} leads with them and {ot[0]} without; the largest HSE loss is "
        f"{worst}'s ({ht[worst]:.3f} to {hu[worst]:.3f})."
    )


def all_facts(
    tables: dict[str, Rows], bg: Rows | None, claims: Rows, leak: tuple[int, int], unseen: str, targets: str,
    nuaa: str,
) -> list[str]:  # fmt: skip
    """Every sentence, in the page's order. ``unseen`` (targets and backgrounds), ``targets`` and ``nuaa``
    name the target tables of ``tables``."""
    out = [leaders(n, r) for n, r in tables.items()]
    if unseen in tables and targets in tables:
        out.append(with_backgrounds(unseen, tables[unseen], targets, tables[targets]))
    if targets in tables and nuaa in tables:
        out += across(targets, tables[targets], nuaa, tables[nuaa])
        out += against_papers(claims, targets, tables[targets], tables[nuaa], leak)
        if bg:
            out += background(bg, targets, tables[targets])
    out.append(why(leak))
    return out
