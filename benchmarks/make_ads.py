"""Generate a seeded, synthetic corpus of realistic job ads for throughput benchmarks.

The ads are for measuring speed and memory (``benchmarks/bench_foundation.py``), not
extraction quality: they are assembled from phrase pools, and the skills they mention are
the labels and alternative labels of the demo taxonomy (``taxonomies/demo``).

What makes them realistic for a benchmark is their *shape* and their *repetition*:

* each ad has a title, a company blurb, an intro line, a facts line (location, contract,
  salary), a "What you'll do" bullet list (3-6 duties), a "What we're looking for" list
  (3-6 requirements), a benefits paragraph and a closing "how to apply" line followed by
  an equal-opportunity line: 12-30 lines, with newlines inside the description field;
* about 60 fictional companies each reuse their own blurb, benefits, headings and closing
  lines verbatim in every ad they post, and big employers post more often than small ones;
* about 30% of requirement lines come from a pool of common lines shared by all companies.

So a batch coder that encodes each distinct sentence once has a real de-duplication
opportunity; the script prints how large it is (the share of repeated sentences).

Usage::

    python benchmarks/make_ads.py --n 1000 --out /tmp/ads_1000.csv [--seed 0]

The output has the columns ``ad_id,title,description`` and is the same for the same seed
and taxonomy. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

DEMO_TAXONOMY = Path(__file__).resolve().parent.parent / "taxonomies" / "demo"
N_COMPANIES = 60
SHARED_REQUIREMENT_SHARE = 0.30
TRANSVERSAL_SHARE = 0.20  # of the non-shared requirements: languages, teamwork, ...
TRANSVERSAL_GROUPS = ("L2-languages", "L2-communication-teamwork")

# --------------------------------------------------------------------------- sectors
# One sector per level-2 group of the demo taxonomy (level-3 groups fold into their
# parent). Salaries are (low, high, step, unit); "hour" rates are in pounds per hour.


@dataclass(frozen=True)
class Sector:
    group: str
    company_suffixes: tuple[str, ...]
    kinds: tuple[str, ...]  # "X is a ... {kind} based in ..."
    titles: tuple[str, ...]
    team: str
    salary: tuple[float, float, float, str]


SECTORS = (
    Sector("L2-software-development", ("Software", "Labs", "Digital"),
           ("software house", "product company", "digital agency"),
           ("Software Developer", "Backend Engineer", "Full Stack Developer",
            "Frontend Developer", "Python Developer", "Java Engineer"),
           "engineering", (40_000, 85_000, 5_000, "year")),
    Sector("L2-data-analytics", ("Analytics", "Data", "Insights"),
           ("data consultancy", "analytics company", "research firm"),
           ("Data Analyst", "Data Engineer", "Data Scientist", "BI Developer",
            "Analytics Engineer"),
           "data", (35_000, 80_000, 5_000, "year")),
    Sector("L2-it-infrastructure", ("Systems", "Networks", "Cloud"),
           ("managed IT provider", "hosting company", "cloud consultancy"),
           ("DevOps Engineer", "Systems Administrator", "Cloud Engineer",
            "IT Support Technician", "Site Reliability Engineer"),
           "infrastructure", (30_000, 80_000, 5_000, "year")),
    Sector("L2-finance-accounting", ("& Partners", "Accountants", "Finance"),
           ("accountancy practice", "financial services firm", "engineering group"),
           ("Assistant Accountant", "Accounts Payable Clerk", "Payroll Administrator",
            "Management Accountant", "Credit Controller", "Bookkeeper"),
           "finance", (24_000, 55_000, 2_000, "year")),
    Sector("L2-management-leadership", ("Group", "Holdings", "Consulting"),
           ("consultancy", "family-owned group", "services company"),
           ("Operations Manager", "Project Manager", "Team Leader", "Programme Manager",
            "Department Manager"),
           "operations", (38_000, 75_000, 2_500, "year")),
    Sector("L2-office-administration", ("Associates", "Services", "Offices"),
           ("property management firm", "law firm", "business services company"),
           ("Office Administrator", "Receptionist", "Personal Assistant",
            "Administrative Assistant", "Office Manager"),
           "office", (21_000, 32_000, 1_000, "year")),
    Sector("L2-sales-customer-service", ("Direct", "Retail", "Connect"),
           ("retailer", "telecoms provider", "energy supplier"),
           ("Sales Advisor", "Customer Service Advisor", "Account Manager",
            "Retail Assistant", "Inside Sales Executive", "Contact Centre Agent"),
           "sales", (21_000, 35_000, 1_000, "year")),
    Sector("L2-hospitality-food", ("Hotel", "Kitchen", "Inns"),
           ("hotel", "restaurant group", "cocktail bar"),
           ("Bartender", "Waiter / Waitress", "Chef de Partie", "Barista",
            "Hotel Receptionist", "Room Attendant"),
           "front-of-house", (11.5, 15.5, 0.25, "hour")),
    Sector("L2-health-care", ("Care", "Healthcare", "Clinic"),
           ("care provider", "private hospital", "nursing home group"),
           ("Registered Nurse", "Healthcare Assistant", "Care Assistant",
            "Senior Carer", "Staff Nurse"),
           "care", (12.0, 22.0, 0.5, "hour")),
    Sector("L2-logistics-warehousing", ("Logistics", "Distribution", "Fulfilment"),
           ("logistics provider", "distribution business", "e-commerce fulfilment company"),
           ("Warehouse Operative", "Forklift Driver", "Picker Packer", "Goods-In Operative",
            "Stock Controller", "Warehouse Team Leader"),
           "warehouse", (11.5, 15.0, 0.25, "hour")),
    Sector("L2-driving-transport", ("Transport", "Haulage", "Travel"),
           ("haulage firm", "bus operator", "courier company"),
           ("HGV Class 1 Driver", "Delivery Driver", "Bus Driver", "Multi-Drop Van Driver",
            "Class 2 Driver"),
           "transport", (12.0, 19.0, 0.5, "hour")),
    Sector("L2-construction-trades", ("Construction", "Building", "Contractors"),
           ("building contractor", "housebuilder", "maintenance company"),
           ("Electrician", "Carpenter", "Plumber", "Bricklayer", "Painter and Decorator",
            "Maintenance Technician"),
           "site", (14.0, 24.0, 0.5, "hour")),
    Sector("L2-teaching", ("Academy", "Learning", "College"),
           ("academy trust", "further education college", "tutoring company"),
           ("Primary Teacher", "Secondary Maths Teacher", "SEN Teaching Assistant",
            "Adult Education Tutor", "English Teacher"),
           "teaching", (28_000, 45_000, 1_000, "year")),
)

COMPANY_PREFIXES = (
    "Riverside", "Northgate", "Bluefin", "Copperleaf", "Harbourview", "Kestrel", "Ashdown",
    "Brightwater", "Cedarline", "Oakridge", "Silverbirch", "Meridian", "Larkfield", "Redwood",
    "Stonebridge", "Fernhill", "Greywell", "Highmoor", "Ivybank", "Juniper", "Kingsmead",
    "Lowther", "Millbrook", "Newhaven", "Orchard", "Pennine", "Quayside", "Rosemount",
    "Saltmarsh", "Thornbury", "Upland", "Valeview", "Westbrook", "Yarrow", "Alder", "Beacon",
    "Castlegate", "Dunmore", "Elmstead", "Foxglove", "Glenholm", "Hawthorn", "Inchmere",
    "Kelso", "Linden", "Marlow", "Norbury", "Oldfield", "Parkside", "Ravensworth", "Sandpiper",
    "Tamar", "Wexford", "Ambleside", "Bramley", "Coldharbour", "Drayton", "Eastwood",
    "Fairhaven", "Goldcrest", "Holloway", "Kingfisher",
)
CITIES = ("London", "Manchester", "Birmingham", "Leeds", "Bristol", "Glasgow", "Cardiff",
          "Nottingham", "Sheffield", "Newcastle", "Edinburgh", "Leicester", "Southampton",
          "Norwich", "York", "Reading", "Milton Keynes", "Daventry", "Coventry", "Liverpool")

# --------------------------------------------------------------------------- company text
BLURB_OPENERS = (
    "{company} is {a_adjective} {kind} based in {city}.",
    "Founded in {year}, {company} is {a_adjective} {kind} with its head office in {city}.",
    "At {company} we are {a_adjective} {kind} serving customers across the UK from {city}.",
    "{company} has been {a_adjective} {kind} in {city} since {year}.",
)
ADJECTIVES = ("growing", "family-run", "award-winning", "independent", "fast-growing",
              "well-established", "employee-owned", "friendly")
BLURB_MIDDLES = (
    "We employ more than {staff} people across {sites} sites.",
    "Our team of {staff} people looks after thousands of customers every week.",
    "We have grown every year for the last {years} years and we are still growing.",
    "We are proud of our {years}-year track record and our loyal customers.",
    "Today we run {sites} sites and employ around {staff} people.",
)
BLURB_CLOSERS = (
    "We believe great service starts with great people.",
    "Our values are simple: do the right thing, work together and keep learning.",
    "We invest in our people and promote from within wherever we can.",
    "Sustainability and community are at the heart of everything we do.",
    "We are known for our friendly culture and our attention to quality.",
    "Our customers stay with us because we keep our promises.",
)
BENEFITS = (
    "We offer {holiday} days of holiday plus bank holidays.",
    "You will join our company pension scheme with employer contributions of {pension}%.",
    "Free on-site parking and a subsidised canteen.",
    "Enhanced maternity and paternity pay.",
    "A cycle-to-work scheme and an employee assistance programme.",
    "Paid training and clear routes to promotion.",
    "Flexible hours and the option to work from home on some days.",
    "Free uniform and staff discounts across the group.",
    "Private medical insurance after your probation period.",
    "A generous referral bonus and regular team socials.",
    "Life assurance at four times your salary.",
    "Weekly pay and paid overtime.",
)
APPLY_LINES = (
    "To apply, send your CV to {email} quoting the job title.",
    "Click apply and upload your CV; we reply to every applicant within {days} days.",
    "Apply online with your CV and a short cover letter.",
    "Send your CV to our recruitment team at {email}; no agencies please.",
    "Interested? Apply today, as we may close the advert early if we receive enough applications.",
)
EQUAL_OPPORTUNITY = (
    "We are an equal opportunity employer and welcome applications from all backgrounds.",
    "{company} is committed to equality, diversity and inclusion.",
    "We welcome applications from everyone, regardless of age, disability, gender, race, "
    "religion or sexual orientation.",
    "We are a Disability Confident employer and will make reasonable adjustments for "
    "candidates who need them.",
    "We value diversity and do not discriminate on any grounds.",
)
DUTY_HEADINGS = ("What you'll do:", "What you'll do:", "Your responsibilities:",
                 "The role:", "Key duties:")
REQUIREMENT_HEADINGS = ("What we're looking for:", "What we're looking for:", "About you:",
                        "Requirements:", "What you'll bring:")
BULLETS = ("- ", "- ", "• ", "* ")

# --------------------------------------------------------------------------- ad text
INTROS = (
    "We are looking for {a_title} to join our {team} team in {city}.",
    "An exciting opportunity has come up for {a_title} in {city}.",
    "Due to continued growth we are hiring {a_title} for our {team} team.",
    "Join us as {a_title} and help us {mission}.",
    "We need {a_title} to start as soon as possible.",
)
MISSIONS = ("deliver for our customers", "grow the business", "raise our standards even further",
            "build something we are proud of", "look after the people who rely on us")
FACTS = "Location: {city} | Contract: {contract} | Salary: {salary}"
CONTRACTS = ("Permanent, full-time", "Permanent, full-time", "Permanent, part-time",
             "Fixed-term contract, 12 months", "Temporary, ongoing")

# Duties use verb-phrase labels (v) and noun-like terms (n).
DUTY_TEMPLATES = (
    "You will {v} as part of a friendly team.",
    "{V} day to day.",
    "{V} and {v2}.",
    "Take ownership of {n} across the team.",
    "Work closely with colleagues on {n}.",
    "Help us improve the way we handle {n}.",
    "Support the team with {n} and {n2}.",
    "{V} to a consistently high standard.",
    "You'll {v} and {v2} on a daily basis.",
    "Be responsible for {n}, from planning to delivery.",
    "Use {n} to get the job done safely and on time.",
    "{V}, following our procedures.",
)
# Requirements: about 25 phrasings of job-ad requirement language.
REQUIREMENT_TEMPLATES = (
    "Solid experience with {x}.",
    "You are confident in {x} and {y}.",
    "Knowledge of {x} is a plus.",
    "Proven track record in {x}.",
    "At least {years} years of experience in {x}.",
    "Hands-on experience of {x}.",
    "Familiarity with {x} would be an advantage.",
    "Good working knowledge of {x} and {y}.",
    "Strong skills in {x}.",
    "Experience with {x} is essential.",
    "You have worked with {x} before.",
    "Comfortable with {x} and happy to learn {y}.",
    "A background in {x} or {y}.",
    "Ideally some exposure to {x}.",
    "Practical experience in {x}, ideally in a similar role.",
    "You know your way around {x}.",
    "A qualification or training in {x}.",
    "Bonus points for {x}.",
    "Some experience of {x} is desirable but not required.",
    "You can {v} with minimal supervision.",
    "You are able to {v} and {v2}.",
    "Previous experience where you had to {v}.",
    "Keen to develop your {x} skills.",
    "{X} experience is highly valued.",
    "Experience in {x} within a busy environment.",
)
SHARED_REQUIREMENTS = (
    "Excellent written and verbal communication skills.",
    "A team player who enjoys working with others.",
    "Strong attention to detail.",
    "Good time management and the ability to prioritise your workload.",
    "Fluent English, spoken and written.",
    "The right to work in the UK.",
    "A full UK driving licence is desirable.",
    "Able to work independently and on your own initiative.",
    "Problem-solving skills and a can-do attitude.",
    "Flexible and able to adapt to changing priorities.",
    "A positive attitude and a willingness to learn.",
    "Basic IT skills, including Microsoft Office.",
    "Good organisational skills.",
    "Reliable and punctual.",
    "Customer-focused, with a friendly and professional manner.",
    "Able to work under pressure and meet deadlines.",
    "Willing to work some evenings and weekends.",
    "An enhanced DBS check will be required for this role.",
    "GCSEs in English and Maths (grade C/4 or above).",
    "Strong numeracy skills.",
    "A proactive approach and a sense of ownership.",
    "Good interpersonal skills and the ability to build relationships.",
)


# --------------------------------------------------------------------------- skills
@dataclass
class SkillTerms:
    """How a group's skills can be mentioned: verb phrases and noun-like terms."""

    verbs: list[str] = field(default_factory=list)  # "administer medication"
    nouns: list[str] = field(default_factory=list)  # "wound care", "Python", "SQL"


def _strip_qualifier(label: str) -> str:
    """'Python (computer programming)' -> 'Python'."""
    return re.sub(r"\s*\([^)]*\)$", "", label).strip()


# Alternative labels starting with one of these verbs (or a label's first word) are verb
# phrases ("deal with complaints"), unless the next word is a gerund ("order picking").
EXTRA_VERBS = frozenset(
    "understand deal hit interview write analyze mix pour help support assign cook make greet "
    "unload evaluate meet close resolve know schedule arrange organize troubleshoot fix peer "
    "collaborate prioritise find cope present fit supervise give drive build".split())
NOT_VERB_PHRASES = frozenset({"design patterns", "clean code", "help desk"})


def _is_verb_phrase(term: str, verbs: set[str]) -> bool:
    words = term.split()
    return (len(words) >= 2 and words[0] in verbs and not words[1].endswith("ing")
            and term not in NOT_VERB_PHRASES)


def load_skill_terms(taxonomy_dir: Path = DEMO_TAXONOMY) -> dict[str, SkillTerms]:
    """Skill mentions per level-2 group, read from a native taxonomy's CSV files.

    Labels of competences written in lower case ("administer medication") and alternative
    labels that look like them are verb phrases; the rest ("wound care", "SQL") are nouns.
    """
    with open(taxonomy_dir / "groups.csv", encoding="utf-8", newline="") as fh:
        groups = {row["id"]: row for row in csv.DictReader(fh)}

    def level2(group_id: str) -> str:
        while group_id in groups and int(groups[group_id]["level"]) > 2:
            group_id = groups[group_id]["parents"].split("|")[0]
        return group_id

    with open(taxonomy_dir / "skills.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    verbs = set(EXTRA_VERBS)
    for row in rows:
        if row["skill_type"] != "knowledge" and row["label"][:1].islower():
            verbs.add(row["label"].split()[0])

    terms: dict[str, SkillTerms] = {}
    for row in rows:
        label = _strip_qualifier(row["label"])
        mentions = list(dict.fromkeys(
            [label] + [a.strip() for a in row["alt_labels"].split("|") if a.strip()]))
        label_is_verb = row["skill_type"] != "knowledge" and label[:1].islower()
        for parent in dict.fromkeys(level2(p) for p in row["parents"].split("|") if p):
            entry = terms.setdefault(parent, SkillTerms())
            for i, term in enumerate(mentions):
                is_verb = label_is_verb if i == 0 else _is_verb_phrase(term, verbs)
                (entry.verbs if is_verb else entry.nouns).append(term)
    return terms


# --------------------------------------------------------------------------- generation
@dataclass
class Company:
    name: str
    sector: Sector
    city: str
    blurb: list[str]
    benefits: str
    apply_line: str
    equal_opportunity: str
    duty_heading: str
    requirement_heading: str
    bullet: str


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _with_article(phrase: str) -> str:
    return f"{'an' if phrase[:1].lower() in 'aeiou' else 'a'} {phrase}"


def _salary(rng: random.Random, sector: Sector) -> str:
    low, high, step, unit = sector.salary
    steps = int(round((high - low) / step))
    start = low + step * rng.randrange(steps)
    end = min(high, start + step * rng.randint(1, 4))
    if unit == "hour":
        return f"£{start:.2f} - £{end:.2f} per hour"
    return f"£{start:,.0f} - £{end:,.0f} per year"


def make_companies(rng: random.Random, n: int = N_COMPANIES) -> list[Company]:
    """``n`` fictional companies, each with its own fixed boilerplate."""
    prefixes = rng.sample(COMPANY_PREFIXES, n)
    companies = []
    for i, prefix in enumerate(prefixes):
        sector = SECTORS[i % len(SECTORS)]
        name = f"{prefix} {rng.choice(sector.company_suffixes)}"
        city = rng.choice(CITIES)
        fill = dict(company=name, city=city, kind=rng.choice(sector.kinds),
                    a_adjective=_with_article(rng.choice(ADJECTIVES)), year=rng.randint(1950, 2018),
                    staff=rng.choice((40, 120, 250, 600, 1500, 4000)), sites=rng.randint(2, 30),
                    years=rng.randint(5, 40), holiday=rng.choice((25, 26, 28, 30)),
                    pension=rng.choice((3, 5, 6, 8)), days=rng.choice((5, 7, 10)),
                    email=f"jobs@{prefix.lower()}.example")
        blurb = [rng.choice(BLURB_OPENERS), rng.choice(BLURB_MIDDLES)]
        if rng.random() < 0.6:
            blurb.append(rng.choice(BLURB_CLOSERS))
        benefits = " ".join(rng.sample(BENEFITS, rng.randint(2, 4)))
        companies.append(Company(
            name=name, sector=sector, city=city,
            blurb=[line.format(**fill) for line in blurb],
            benefits=benefits.format(**fill),
            apply_line=rng.choice(APPLY_LINES).format(**fill),
            equal_opportunity=rng.choice(EQUAL_OPPORTUNITY).format(**fill),
            duty_heading=rng.choice(DUTY_HEADINGS),
            requirement_heading=rng.choice(REQUIREMENT_HEADINGS),
            bullet=rng.choice(BULLETS)))
    return companies


def _fill(rng: random.Random, template: str, terms: SkillTerms) -> str:
    """Fill a template's {v}/{v2}/{V}/{n}/{n2}/{x}/{y}/{X}/{years} slots from ``terms``."""
    verbs = rng.sample(terms.verbs, min(2, len(terms.verbs))) or ["get involved"]
    nouns = rng.sample(terms.nouns, min(2, len(terms.nouns))) or ["the work"]
    verbs, nouns = verbs * 2, nouns * 2  # groups with a single term still fill two slots
    return template.format(v=verbs[0], v2=verbs[1], V=_cap(verbs[0]), n=nouns[0], n2=nouns[1],
                           x=nouns[0], y=nouns[1], X=_cap(nouns[0]), years=rng.randint(2, 5))


def _distinct(count: int, draw) -> list[str]:
    """``count`` different lines from ``draw()`` (fewer only if it keeps repeating itself)."""
    lines: list[str] = []
    for _ in range(20 * count):
        line = draw()
        if line not in lines:
            lines.append(line)
            if len(lines) == count:
                break
    return lines


def make_ad(rng: random.Random, company: Company, terms: dict[str, SkillTerms],
            ad_id: str) -> dict[str, str]:
    """One ad of ``company``: its boilerplate verbatim, duties and requirements fresh."""
    sector = company.sector
    own = terms[sector.group]
    transversal = [terms[g] for g in TRANSVERSAL_GROUPS if g in terms]
    title = rng.choice(sector.titles)
    if rng.random() < 0.25:
        title = f"{rng.choice(('Senior', 'Junior', 'Lead', 'Trainee'))} {title}"

    def duty() -> str:
        return _fill(rng, rng.choice(DUTY_TEMPLATES), own)

    def requirement() -> str:
        if rng.random() < SHARED_REQUIREMENT_SHARE:
            return rng.choice(SHARED_REQUIREMENTS)
        pool = rng.choice(transversal) if transversal and rng.random() < TRANSVERSAL_SHARE else own
        return _fill(rng, rng.choice(REQUIREMENT_TEMPLATES), pool)

    duties = _distinct(rng.randint(3, 6), duty)
    requirements = _distinct(rng.randint(3, 6), requirement)

    fill = dict(title=title, a_title=_with_article(title), team=sector.team, city=company.city,
                mission=rng.choice(MISSIONS))
    lines = [*company.blurb, "",
             rng.choice(INTROS).format(**fill),
             FACTS.format(city=company.city, contract=rng.choice(CONTRACTS),
                          salary=_salary(rng, sector)), "",
             company.duty_heading,
             *(company.bullet + d for d in duties), "",
             company.requirement_heading,
             *(company.bullet + r for r in requirements), "",
             company.benefits, "",
             company.apply_line,
             company.equal_opportunity]
    return {"ad_id": ad_id, "title": title, "description": "\n".join(lines)}


def generate_ads(n: int, seed: int = 0, taxonomy_dir: Path = DEMO_TAXONOMY) -> list[dict]:
    """``n`` ads as dicts with ``ad_id``, ``title`` and ``description``; same seed, same ads."""
    rng = random.Random(seed)
    terms = load_skill_terms(Path(taxonomy_dir))
    companies = make_companies(rng)
    # Big employers post far more often than small ones (Zipf-like weights).
    weights = [1.0 / (rank + 1) ** 0.8 for rank in range(len(companies))]
    posters = rng.choices(companies, weights=weights, k=n)
    return [make_ad(rng, company, terms, f"SYN{i + 1:06d}") for i, company in enumerate(posters)]


def write_ads(ads: list[dict], path: str | Path) -> Path:
    """Write ads as a properly quoted UTF-8 CSV (``ad_id,title,description``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=("ad_id", "title", "description"))
        writer.writeheader()
        writer.writerows(ads)
    return path


def sentence_stats(ads: list[dict]) -> tuple[int, int]:
    """``(sentences, distinct sentences)``, splitting descriptions on newlines and '. '."""
    sentences = [part.strip() for ad in ads for line in ad["description"].split("\n")
                 for part in line.split(". ") if part.strip()]
    return len(sentences), len(set(sentences))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Write a seeded synthetic job-ad corpus (ad_id,title,description) for "
                    "throughput benchmarks.")
    parser.add_argument("--n", type=int, default=1000, help="number of ads (default: 1000)")
    parser.add_argument("--out", type=Path, required=True, help="CSV file to write")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--taxonomy", type=Path, default=DEMO_TAXONOMY,
                        help="native taxonomy folder whose skills the ads mention "
                             "(default: the demo taxonomy)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")

    ads = generate_ads(args.n, args.seed, args.taxonomy)
    write_ads(ads, args.out)
    total, distinct = sentence_stats(ads)
    lines = [ad["description"].count("\n") + 1 for ad in ads]
    print(f"wrote {len(ads)} ads to {args.out} ({min(lines)}-{max(lines)} lines per ad, "
          f"{sum(lines) / len(lines):.1f} on average)")
    print(f"{total} sentences, {distinct} distinct: {1 - distinct / total:.1%} are repeats")
    return 0


if __name__ == "__main__":
    sys.exit(main())
