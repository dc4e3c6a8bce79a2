"""Fictional identities with the shape of a real pharmacy's patients.

Common French family names and first names (frequent ones far more often, as in life), compound and hyphenated
names, apostrophes and accents, used names (married names), several first names, birth dates known only in part
(RNIV 00), children covered by a parent's carte Vitale (same NIR, rank 2 and up), and the INS statuses of the RNIV.
No person is real: names, dates and places are drawn at random and independently, and every NIR is built like the
demo data's (born abroad: département 99 and a country code), from the drawn sex and birth date.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from lgo.demo_data import nir_with_key


def listed(text: str) -> tuple[str, ...]:
    """Words separated by spaces; « _ » joins the words of one name (« Le_Gall » is « Le Gall »)."""
    return tuple(word.replace("_", " ") for word in text.split())


FAMILY_NAMES = listed(
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefèvre Leroy Roux David "
    "Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller Lefèvre Faure André "
    "Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand Gauthier Garcia Perrin Robin Clément Morin "
    "Nicolas Henry Roussel Mathieu Gautier Masson Marchand Duval Denis Dumont Marie Lemaire Noël Meyer Dufour "
    "Meunier Brun Blanchard Giraud Joly Rivière Lucas Brunet Gaillard Barbier Arnaud Martinez Gérard Roche Renard "
    "Schmitt Roy Leroux Colin Vidal Caron Picard Roger Fabre Aubert Lemoine Renaud Dumas Lacroix Olivier Philippe "
    "Bourgeois Pierre Benoît Rey Leclerc Payet Rolland Leclercq Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert "
    "Berger Carpentier Sanchez Dupuis Moulin Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein Jacquet "
    "Adam Paris Poirier Marty Aubry Guyot Carré Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly "
    "Hervé Schneider Fernandez Le_Gall Collet Léger Bouvier Julien Prévost Millet Perrot Daniel Le_Roux Cousin "
    "Germain Breton Besson Langlois Rémy Le_Goff Pelletier Lévêque Perrier Leblanc Barré Lebrun Marchal Weber "
    "Mallet Hamon Boulanger Jacob Monnier Michaud Rodriguez Guichard Gillet Étienne Grondin Poulain Tessier "
    "Chevallier Collin Chauvin Da_Silva Bouchet Gay Lemaître Bénard Maréchal Humbert Reynaud Antoine Hoarau Perret "
    "Barthélemy Cordier Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier Laporte Ngo Diallo Nguyen Traoré "
    "Benali Haddad Kone Camara Mendes Ferreira Pereira Dos_Santos Rossi Bianchi Kowalski Yilmaz"
)

#: Particles and multi-word names, kept as written (« Le_Gall », « Da_Silva »).
_JOINED = ("Le", "Da", "Dos")

FEMALE_FIRST = listed(
    "Marie Nathalie Isabelle Sylvie Catherine Martine Christine Françoise Valérie Sandrine Stéphanie Véronique "
    "Sophie Céline Chantal Patricia Anne Brigitte Julie Monique Aurélie Nicole Laurence Annie Émilie Dominique "
    "Virginie Corinne Élodie Christiane Camille Léa Manon Chloé Emma Inès Jade Louise Alice Lina Zoé Anaïs Hélène "
    "Josiane Jacqueline Mireille Odette Geneviève Yvette Ginette Thérèse Madeleine Noémie Maëlle Océane Fatima "
    "Aïcha Nadia Samia Yasmine Mélissa Clémence Éloïse Agathe Héloïse Bérénice"
)

MALE_FIRST = listed(
    "Jean Pierre Michel André Philippe René Louis Alain Jacques Bernard Marcel Daniel Roger Robert Paul Claude "
    "Christian Henri Georges Nicolas François Patrick Gérard Christophe Joseph Julien Thierry Éric Frédéric Laurent "
    "Stéphane David Pascal Sébastien Olivier Thomas Lucas Hugo Léo Gabriel Raphaël Arthur Louis Jules Adam Maël "
    "Noah Ethan Mohamed Karim Youssef Mehdi Rachid Théo Mathéo Timothée Benoît Jérôme Rémi Loïc Gaël"
)

#: Birth communes (INSEE codes of large towns) and, for a tenth of the patients, a country abroad (99xxx).
COMMUNES = listed(
    "75056 75056 75056 13055 69123 31555 06088 44109 67482 34172 33063 59350 35238 51454 83137 76351 42218 38185 "
    "21231 49007 30189 63113 37261 80021 87085 25056 29019 72181 57463 97411 97209 2A004 2B033"
)

COUNTRIES = ("99100", "99350", "99352", "99109", "99134", "99139", "99127", "99131", "99212", "99243")


@dataclass(frozen=True)
class Identity:
    birth_name: str
    first_names: str
    sex: str
    birth_date: str  # AAAA-MM-JJ, 00 when unknown
    birth_place_code: str | None
    used_name: str | None
    used_first_name: str | None
    #: The person's own NIR (what INSi returns as matricule), 15 characters.
    nir: str


def _zipf_pick(rng: random.Random, items: tuple[str, ...] | list[str], skew: float = 1.1) -> str:
    # Rank r drawn with weight 1/r^skew: « Martin » far more often than « Kowalski ».
    weights = _WEIGHTS.setdefault((len(items), skew), [1 / (r + 1) ** skew for r in range(len(items))])
    return rng.choices(items, weights=weights)[0]


_WEIGHTS: dict[tuple[int, float], list[float]] = {}


def family_name(rng: random.Random) -> str:
    name = _zipf_pick(rng, FAMILY_NAMES)
    roll = rng.random()
    if roll < 0.04:  # double name: « Martin-Dubois »
        return f"{name}-{_zipf_pick(rng, FAMILY_NAMES)}"
    if roll < 0.06:  # particle: « d'Arnaud », « de la Roche »
        other = _zipf_pick(rng, FAMILY_NAMES)
        return f"d'{other}" if other[0] in "AEÉIOU" else f"de {other}"
    return name


def first_names(rng: random.Random, sex: str) -> str:
    pool = FEMALE_FIRST if sex == "F" else MALE_FIRST
    count = rng.choices((1, 2, 3), weights=(45, 40, 15))[0]
    names = [_zipf_pick(rng, pool, 0.8) for _ in range(count)]
    if rng.random() < 0.05:  # composed first name: « Jean-Pierre »
        names[0] = f"{names[0]}-{_zipf_pick(rng, pool, 0.8)}"
    return " ".join(dict.fromkeys(names))


def birth_date(rng: random.Random, today: date, *, child: bool = False) -> date:
    # A pharmacy's patients are older than the population: ages drawn from a triangle leaning to 60.
    age = rng.uniform(0, 16) if child else rng.triangular(0, 100, 62)
    return today - timedelta(days=int(age * 365.25) + rng.randint(0, 364))


def nir_for(sex: str, born: date, serial: int) -> str:
    """A NIR of the demo data's kind: sex, year and month of birth, born abroad (département 99, a country code),
    the order number taken from the patient's serial so that two patients rarely share one."""
    sex_digit = "2" if sex == "F" else "1"
    country, order = divmod(serial, 1000)
    code = COUNTRIES[country % len(COUNTRIES)]
    return nir_with_key(f"{sex_digit}{born.year % 100:02d}{born.month:02d}{code}{order:03d}")


def identity(rng: random.Random, today: date, serial: int, *, child_of: Identity | None = None) -> Identity:
    sex = "F" if rng.random() < 0.53 else "M"
    if rng.random() < 0.0005:
        sex = "I"  # RNIV: indeterminate sex, rare
    born = birth_date(rng, today, child=child_of is not None)
    name = child_of.used_name or child_of.birth_name if child_of is not None else family_name(rng)
    used_name = None
    if child_of is None and sex == "F" and today.year - born.year >= 25 and rng.random() < 0.45:
        used_name = family_name(rng)  # married name
    firsts = first_names(rng, "F" if sex == "I" else sex)
    used_first = firsts.split(" ")[1] if " " in firsts and rng.random() < 0.03 else None
    text = born.isoformat()
    roll = rng.random()
    if roll < 0.004:
        text = f"{born.year:04d}-00-00"  # RNIV: day and month unknown
    elif roll < 0.008:
        text = f"{born.year:04d}-{born.month:02d}-00"
    place = rng.choice(COUNTRIES) if rng.random() < 0.1 else rng.choice(COMMUNES)
    return Identity(
        birth_name=name,
        first_names=firsts,
        sex=sex,
        birth_date=text,
        birth_place_code=place if rng.random() > 0.01 else None,
        used_name=used_name,
        used_first_name=used_first,
        nir=nir_for(sex, born, serial),
    )


#: RNIV statuses of the INS in a pharmacy's file after some years of Ségur: (insi_checked, document_checked) → share.
INS_STATUSES = {
    (True, True): 0.55,  # qualifiée
    (True, False): 0.18,  # récupérée
    (False, True): 0.04,  # validée
    (False, False): 0.23,  # provisoire
}


def ins_status(rng: random.Random) -> tuple[bool, bool]:
    return rng.choices(list(INS_STATUSES), weights=list(INS_STATUSES.values()))[0]
