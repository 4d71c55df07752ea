"""Seeded buyers and addresses for sandbox data: non-ASCII names, many countries, optional gaps."""

from __future__ import annotations

import random
from dataclasses import dataclass

# country -> (currency, [(name, city, street, postal code)])
PEOPLE: dict[str, tuple[str, list[tuple[str, str, str, str]]]] = {
    "DE": ("EUR", [("Jürgen Müller", "München", "Maximilianstraße 5", "80539"),
                   ("Zoë Weiß", "Köln", "Hohe Straße 12", "50667")]),
    "FR": ("EUR", [("Chloé Lefèvre", "Paris", "12 rue de la Roquette", "75011"),
                   ("Benoît Garçon", "Lyon", "3 place Bellecour", "69002")]),
    "GB": ("GBP", [("Siân O'Connor", "Cardiff", "14 Queen Street", "CF10 2BH"),
                   ("Oliver Smith", "London", "221B Baker Street", "NW1 6XE")]),
    "US": ("USD", [("José Álvarez", "San José", "100 N 1st St", "95113"),
                   ("Emily Chen", "Seattle", "400 Broad St", "98109")]),
    "JP": ("JPY", [("山田 太郎", "東京都", "千代田区丸の内1-1", "100-0005"),
                   ("佐藤 花子", "大阪市", "北区梅田3-1-1", "530-0001")]),
    "SG": ("SGD", [("Tan Wei Ling", "Singapore", "1 Raffles Place", "048616")]),
    "KW": ("KWD", [("فاطمة العلي", "Kuwait City", "Gulf Road 7", "13001")]),
    "PL": ("PLN", [("Łukasz Żółć", "Kraków", "ul. Floriańska 3", "31-019")]),
    "VN": ("VND", [("Nguyễn Thị Hương", "Hà Nội", "12 Phố Hàng Bạc", "100000")]),
    "BR": ("BRL", [("João Conceição", "São Paulo", "Av. Paulista 1000", "01310-100")]),
}


@dataclass(frozen=True)
class Person:
    name: str
    email: str | None
    phone: str | None
    country: str
    currency: str
    city: str
    street: str
    postal_code: str


def person(rng: random.Random, countries: tuple[str, ...] | None = None) -> Person:
    """A buyer; about one in ten has no email and one in five no phone (optional fields go missing)."""
    country = rng.choice(countries or tuple(PEOPLE))
    currency, people = PEOPLE[country]
    name, city, street, postal = rng.choice(people)
    handle = f"buyer{rng.randrange(10_000, 99_999)}"
    return Person(
        name=name, email=None if rng.random() < 0.1 else f"{handle}@example.com",
        phone=None if rng.random() < 0.2 else f"+{rng.randrange(10, 99)} {rng.randrange(100_000, 999_999)}",
        country=country, currency=currency, city=city, street=street, postal_code=postal,
    )
