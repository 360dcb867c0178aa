"""Word lists the generator draws from: names, places, brands, search terms.

Accented names are deliberately frequent so that the mojibake fault is visible and so that
staging's text handling is exercised on clean rows too.
"""

from __future__ import annotations

import unicodedata

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "NL": ("Anna", "Sanne", "Lotte", "Emma", "Julia", "Daan", "Sem", "Lucas", "Bram", "Thijs",
           "Fleur", "Noor", "Joëlle", "Chloë", "Zoë", "Ruud", "Henk", "Marloes", "Eline", "Jeroen"),
    "BE": ("Lucas", "Louis", "Noah", "Emma", "Olivia", "Louise", "Marie", "Élise", "Chloé", "Arthur",
           "Jules", "Léa", "Wout", "Thibault", "Amélie"),
    "DE": ("Lukas", "Leon", "Finn", "Jonas", "Paul", "Mia", "Hannah", "Lea", "Sophie", "Jürgen",
           "Jörg", "Günter", "Björn", "Lena", "Käthe"),
    "FR": ("Jean", "Léa", "Chloé", "Manon", "Inès", "Hugo", "Louis", "Gabriel", "Raphaël", "Zoé",
           "Élodie", "Jérôme", "François", "Hélène", "Amélie"),
    "GB": ("Oliver", "George", "Harry", "Jack", "Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie",
           "Chloe", "Thomas", "Niamh", "Siobhán", "Seán"),
}  # fmt: skip

LAST_NAMES: dict[str, tuple[str, ...]] = {
    "NL": ("Jansen", "de Vries", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
           "Mulder", "Bos", "Vos", "Peters", "Hendriks", "van Dijk", "Dekker", "Brouwer", "Kuiper",
           "Groen", "Schouten", "Çelik"),
    "BE": ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
           "Wouters", "De Smet", "Dubois", "Lambert", "Dupont", "Janssens-Léon", "Vermeulen"),
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
           "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Groß", "Köhler"),
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
           "Moreau", "Lefèvre", "Girard", "Bonnet", "Rousseau", "Lemaître"),
    "GB": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
           "Wright", "Thompson", "Evans", "Walker", "Ørsted", "O'Brien"),
}  # fmt: skip

CITIES: dict[str, tuple[str, ...]] = {
    "NL": ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Tilburg",
           "Almere", "Breda", "Nijmegen"),
    "BE": ("Brussel", "Antwerpen", "Gent", "Charleroi", "Liège", "Brugge", "Namur", "Leuven"),
    "DE": ("Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf",
           "Leipzig", "Nürnberg"),
    "FR": ("Paris", "Marseille", "Lyon", "Toulouse", "Nice", "Nantes", "Strasbourg", "Montpellier",
           "Besançon", "Orléans"),
    "GB": ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol", "Liverpool", "Edinburgh"),
}  # fmt: skip

EMAIL_DOMAINS: dict[str, tuple[str, ...]] = {
    "NL": ("gmail.com", "outlook.com", "ziggo.nl", "kpnmail.nl", "hotmail.com"),
    "BE": ("gmail.com", "telenet.be", "skynet.be", "outlook.com", "hotmail.com"),
    "DE": ("gmail.com", "web.de", "gmx.de", "t-online.de", "outlook.com"),
    "FR": ("gmail.com", "orange.fr", "free.fr", "laposte.net", "outlook.com"),
    "GB": ("gmail.com", "btinternet.com", "yahoo.co.uk", "outlook.com", "hotmail.co.uk"),
}

SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "fashion": ("t-shirts", "jeans", "dresses", "jackets", "sneakers"),
    "beauty": ("skincare", "make-up", "fragrance", "hair care"),
    "home": ("kitchen", "bedding", "decor", "lighting", "storage"),
    "electronics": ("headphones", "phones", "laptops", "smart home", "accessories"),
    "sports": ("running", "cycling", "outdoor", "fitness"),
    "kids": ("toys", "baby care", "kids clothing", "school"),
    "grocery": ("coffee & tea", "snacks", "pantry", "drinks"),
    "books": ("fiction", "non-fiction", "children's books", "cookbooks"),
}

BRANDS: dict[str, tuple[str, ...]] = {
    "fashion": ("Nordwind", "Léon Paris", "Urban Thread", "Maison Élise", "Ørsted Wear"),
    "beauty": ("Belle Sève", "Glow Lab", "Pure Botanica", "Crème de Jour"),
    "home": ("Hygge Home", "Müller & Söhne", "Casa Nova", "Ørsted Living", "Linnen & Co"),
    "electronics": ("Voltix", "Sonaro", "Pixelon", "Kabelwerk", "Zénith Audio"),
    "sports": ("Trailhead", "Fjällgear", "Peak & Pine", "Vélo Sport", "Stride"),
    "kids": ("Little Bear", "Kinderglück", "Petit Pois", "Happy Hop"),
    "grocery": ("Bio Boerderij", "Café Noël", "Daily Harvest", "Smaakmakers"),
    "books": ("Atlas Uitgevers", "Éditions Lumière", "Penwood Press", "Bücherwurm"),
}

MODEL_WORDS: tuple[str, ...] = (
    "Classic", "Pro", "Essential", "Premium", "Lite", "Max", "Plus", "Original", "Eco", "Sport",
    "Édition", "Nova", "Aero", "Flex", "Core",
)  # fmt: skip

# Median list price of a mid-tier product per category; tiers multiply it.
CATEGORY_BASE_PRICE: dict[str, float] = {
    "fashion": 40.0, "beauty": 20.0, "home": 35.0, "electronics": 60.0,
    "sports": 40.0, "kids": 22.0, "grocery": 10.0, "books": 16.0,
}  # fmt: skip
TIER_PRICE_MULTIPLIER: tuple[float, float, float] = (0.55, 1.0, 2.0)

SEARCH_TERMS: dict[str, tuple[str, ...]] = {
    "fashion": ("black dress", "white sneakers", "denim jacket", "summer dress", "slim jeans", "wool coat"),
    "beauty": ("vitamin c serum", "mascara", "perfume", "dry shampoo", "sunscreen spf 50"),
    "home": ("duvet cover", "table lamp", "cast iron pan", "storage box", "scented candle", "plant pot"),
    "electronics": ("wireless earbuds", "usb-c charger", "gaming laptop", "smart speaker", "4k monitor",
                    "phone case"),
    "sports": ("running shoes", "rain jacket", "yoga mat", "bike light", "hiking boots", "tent"),
    "kids": ("building blocks", "baby monitor", "kids raincoat", "school bag", "diapers"),
    "grocery": ("coffee beans", "organic tea", "granola", "olive oil", "dark chocolate"),
    "books": ("thriller", "cookbook", "biography", "fantasy novel", "travel guide"),
}  # fmt: skip

_ASCII_FALLBACK = str.maketrans({"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe"})


def slug(text: str) -> str:
    """ASCII, lower-case, no spaces or punctuation: how a name shows up inside an email address."""
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII_FALLBACK))
    ascii_only = "".join(ch for ch in folded if ch.isascii() and (ch.isalnum() or ch == "-"))
    return ascii_only.lower()


# --- the music shop of shape experiment (keys: MUSIC_CATEGORIES' values) -----------------------
MUSIC_SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "merch": ("band t-shirts", "hoodies", "posters", "caps"),
    "accessories": ("strings", "picks", "cables", "cleaning kits"),
    "vinyl": ("lp", "single", "box set", "reissue"),
    "audio": ("headphones", "turntables", "speakers", "amplifiers"),
    "instruments": ("guitars", "keyboards", "drums", "ukuleles", "wind"),
    "sheet_music": ("piano scores", "guitar tabs", "choir scores", "songbooks"),
    "cd": ("albums", "compilations", "soundtracks", "live recordings"),
    "tickets": ("concerts", "festivals", "workshops", "gift vouchers"),
}
MUSIC_BRANDS: dict[str, tuple[str, ...]] = {
    "merch": ("Tour Supply", "Backstage Wear", "Encore Merch"),
    "accessories": ("Fretline", "Dunmore", "Kabelwerk Audio", "Clearplay"),
    "vinyl": ("Groove Pressings", "Blue Note Reissues", "Rillenwerk", "Waxworks"),
    "audio": ("Sonaro", "Zénith Audio", "Platine", "Hifiklang"),
    "instruments": ("Fenwood", "Yamara", "Pearlstone", "Lutherie Lyon"),
    "sheet_music": ("Edition Peterson", "Bärenreiter Press", "Scorebook"),
    "cd": ("Disque Lumière", "Klangfarben", "Silver Disc", "Northern Records"),
    "tickets": ("Ticketbox", "Festivalpas", "Live Nation Europe"),
}
MUSIC_SEARCH_TERMS: dict[str, tuple[str, ...]] = {
    "merch": ("band shirt", "tour hoodie", "festival poster", "logo cap"),
    "accessories": ("guitar strings", "picks pack", "jack cable", "record cleaner"),
    "vinyl": ("jazz lp", "first pressing", "180g vinyl", "soundtrack vinyl", "box set"),
    "audio": ("turntable", "studio headphones", "bookshelf speakers", "phono preamp"),
    "instruments": ("acoustic guitar", "digital piano", "drum kit", "ukulele", "violin"),
    "sheet_music": ("piano sheet music", "guitar tabs", "choir score", "real book"),
    "cd": ("greatest hits", "live album", "classical cd", "new releases"),
    "tickets": ("concert tickets", "festival pass", "gift voucher", "workshop"),
}
