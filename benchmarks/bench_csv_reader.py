"""What the batch CSV reader's per-record cell limit costs (skillmap.batch.readers).

    python benchmarks/bench_csv_reader.py [--rows 200000] [--repeats 5]

The csv module keeps one cell limit per process, so ``csv_records`` raises it (under a lock)
for each record's parse and puts it back. This times, on one in-memory table of short ads,
the csv module alone with the limit raised once, the scoped limit alone
(``_with_cell_limit``) and the whole strict reader (``csv_records``); best of the repeats,
so the ratios are the per-record overheads, not noise.
"""

from __future__ import annotations

import argparse
import csv
import io
import time

from skillmap.batch import readers


def best_seconds(read, text: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        count = sum(1 for _ in read(io.StringIO(text, newline="")))
        times.append(time.perf_counter() - start)
    assert count > 1
    return min(times)


def raised_once(fh):
    csv.field_size_limit(readers.MAX_CELL_CHARS)
    return csv.reader(fh, strict=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    text = "id,text\n" + "".join(f"{i},We need Python and SQL for data pipelines case {i}\n"
                                 for i in range(args.rows))
    previous = csv.field_size_limit()
    base = best_seconds(raised_once, text, args.repeats)
    csv.field_size_limit(previous)
    scoped = best_seconds(lambda fh: readers._with_cell_limit(csv.reader(fh, strict=True)),
                          text, args.repeats)
    strict = best_seconds(lambda fh: readers.csv_records(fh, "bench.csv"), text, args.repeats)
    print(f"| reader | {args.rows:,} records, s | per record, us | x csv module |\n|---|---|---|---|")
    for name, seconds in (("csv module, limit raised once (the old way)", base),
                          ("scoped limit (_with_cell_limit)", scoped),
                          ("csv_records (scoped limit + strict checks)", strict)):
        print(f"| {name} | {seconds:.3f} | {1e6 * seconds / args.rows:.2f} | "
              f"x{seconds / base:.2f} |")


if __name__ == "__main__":
    main()
