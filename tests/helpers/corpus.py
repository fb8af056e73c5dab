"""The sample ads with corpus variables: a posting date over four months and a region."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tests.conftest import DATA

MONTHS = ("2024-01", "2024-02", "2024-03", "2024-04")
REGIONS = ("North", "South")


def dated_ads(path: Path) -> pd.DataFrame:
    """Write the 20 sample ads to ``path`` with ``posted`` (ISO dates, five ads a month) and
    ``region`` (alternating) columns; return the table."""
    ads = pd.read_csv(DATA / "sample_ads.csv", dtype=str)
    ads.insert(1, "posted", [f"{MONTHS[i % 4]}-{10 + i:02d}" for i in range(len(ads))])
    ads.insert(2, "region", [REGIONS[i % 2] for i in range(len(ads))])
    ads.to_csv(path, index=False)
    return ads
