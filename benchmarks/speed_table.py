"""The table every side-by-side benchmark prints: median (min) per contender and thread count,
and the ratio of medians tinytorch / torch when PyTorch ran."""

from __future__ import annotations


def speed_table(by_threads: dict, unit: str = "ms per step", scale: float = 1000.0, digits: int = 1) -> list[str]:
    """Markdown rows for {threads: {contender: {"median": s, "min": s}}}; times in seconds,
    shown multiplied by `scale` (1000: milliseconds) in `unit`."""
    names = list(next(iter(by_threads.values())))
    has_torch = "torch" in names
    header = "| threads | " + " | ".join(f"{name} median (min) {unit}" for name in names)
    header += " | tinytorch / torch |" if has_torch else " |"
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for threads, timing in by_threads.items():
        row = f"| {threads} | " + " | ".join(
            f"{scale * timing[name]['median']:.{digits}f} ({scale * timing[name]['min']:.{digits}f})" for name in names)
        row += f" | **{timing['tinytorch']['median'] / timing['torch']['median']:.2f}** |" if has_torch else " |"
        lines.append(row)
    return lines
