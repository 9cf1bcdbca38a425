"""Embedded default alt-text sample: a deterministic, offline, multilingual stand-in for web data.

``generate_alt_texts()`` writes realistic web alt-texts (product photos, travel, food, animals,
people; short and long; stock-photo and shop style) from hand-written per-language vocabularies
and caption templates, combined with a seeded ``random.Random`` -- no global RNG, no ``hash()``
of strings, so the same seed gives the same table in every process and Python run.

The mix mimics web data: English is about 40 % of the rows, then a long tail (de, fr, es, ja, zh
and ru bigger, the others smaller). About 13 % of the images carry several alt-texts (same URL,
2--3 captions, sometimes in different languages). About 2.7 % of the rows are deliberately bad,
one defect per row (see ``BAD_ROW_KINDS`` and ``row_kind``): null, empty, whitespace-only and
over-long texts, malformed URLs, captions with no words at all (file names, consonant noise),
captions in languages outside the main list, and texts with U+FFFD mojibake.

Columns: ``url``, ``text`` (nullable) and ``source_lang``: the language the generator *intended*
(``zxx`` for texts with no linguistic content, null for null texts). ``source_lang`` is for tests
and diagnostics only; the pipeline carries it through as an extra column.

The default sample is committed as ``curation/data/default_alt_texts.jsonl.gz`` (gzip JSON
Lines, mtime 0); ``python -m curation.demo_data`` regenerates it byte-for-byte.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import re
from importlib import resources

import pyarrow as pa

DEFAULT_N_IMAGES = 3000
DEFAULT_SEED = 0
DEFAULT_ALT_TEXTS_FILE = "default_alt_texts.jsonl.gz"

SCHEMA = pa.schema([
    pa.field("url", pa.string()),
    pa.field("text", pa.string()),
    pa.field("source_lang", pa.string()),
])

# Share of primary captions per language (normalised); English ~40 %, then a web-like tail.
LANGUAGE_WEIGHTS: dict[str, float] = {
    "en": 40.0, "de": 8.0, "fr": 7.0, "es": 7.0, "ja": 6.0, "zh": 5.5, "ru": 5.0,
    "pt": 3.5, "it": 3.0, "nl": 2.0, "pl": 2.0, "ko": 2.0, "tr": 1.5, "vi": 1.5,
    "id": 1.5, "ar": 1.5, "hi": 1.0, "th": 1.0,
}
MAIN_LANGUAGES: tuple[str, ...] = tuple(LANGUAGE_WEIGHTS)
NO_LANGUAGE = "zxx"  # ISO 639-2 "no linguistic content"

CATEGORY_WEIGHTS: dict[str, float] = {
    "product": 30.0, "travel": 20.0, "people": 20.0, "animal": 15.0, "food": 15.0,
}

MULTI_TEXT_IMAGE_FRACTION = 0.13   # images with 2-3 alt-texts
THREE_TEXTS_FRACTION = 0.3         # of those, share with 3 texts
SAME_LANGUAGE_EXTRA = 0.6          # an extra caption keeps the image's language, else switches
TOO_LONG_CHARS = 5000
IMAGES_PER_BAD_ROW = 375           # per kind: 3000 images -> 8 rows of each kind

BAD_ROW_KINDS: tuple[str, ...] = (
    "null_text", "empty_text", "whitespace_text", "too_long",
    "null_url", "empty_url", "javascript_url", "url_with_space", "url_no_scheme",
    "replacement_char", "no_language", "foreign_language",
)
GOOD = "good"

# ---------------------------------------------------------------------------------------------
# Vocabularies. Nouns are "word|gender" (m, f, n; Dutch: m = de-word, n = het-word) where
# adjectives agree; adjectives are "m|f|n" forms (one form = invariant). ``np_order`` says
# whether the adjective precedes or follows the noun; ``np_sep`` joins them ("" for CJK/Thai).
# Placeholders in templates: {np_animal} {np_thing} {animal} {thing} {scene} {city} {people}
# {food} {time}.
# ---------------------------------------------------------------------------------------------

_LANGS: dict[str, dict] = {}

_LANGS["en"] = {
    "np_order": "pre",
    "animals": ["cat", "dog", "puppy", "kitten", "horse", "bird", "rabbit", "parrot", "cow",
                "duck", "fox", "goat", "sheep", "owl", "turtle", "golden retriever", "deer",
                "squirrel", "hamster", "pony"],
    "adj_animals": ["cute", "small", "big", "young", "old", "fluffy", "black", "white", "brown",
                    "grey", "sleepy", "happy", "little", "funny"],
    "things": ["handbag", "leather wallet", "backpack", "summer dress", "t-shirt", "jacket",
               "coffee mug", "wristwatch", "sofa", "armchair", "table lamp", "wooden chair",
               "bicycle", "car", "umbrella", "suitcase", "phone case", "ceramic vase", "teapot",
               "desk", "rug", "hat", "scarf", "kitchen table", "bookshelf", "water bottle"],
    "adj_things": ["red", "black", "white", "blue", "green", "yellow", "grey", "brown", "pink",
                   "navy blue", "beige", "orange"],
    "adj_style_things": ["vintage", "modern", "elegant", "handmade", "classic", "small", "large",
                         "new", "cheap", "stylish"],
    "scenes": ["on the beach", "in the park", "on the sofa", "in the kitchen", "on the street",
               "in the garden", "at the market", "in the snow", "by the window", "in the forest",
               "on the grass", "at the train station", "in a cafe", "in the living room",
               "on the balcony", "in the mountains", "near the lake"],
    "cities": ["Paris", "London", "New York", "Tokyo", "Rome", "Barcelona", "Sydney", "Chicago",
               "San Francisco", "Amsterdam", "Venice", "Dubai", "Cape Town", "Vancouver",
               "Edinburgh", "Prague", "Lisbon", "Bangkok", "Istanbul", "Seattle", "Boston",
               "Dublin"],
    "people": ["young woman drinking coffee", "man reading a newspaper",
               "children playing football", "happy family having a picnic",
               "senior couple walking their dog", "businessman talking on the phone",
               "students studying together", "girl riding a bicycle", "woman doing yoga",
               "chef cooking pasta", "tourists taking photos", "friends laughing together",
               "boy eating an ice cream", "mother holding her baby",
               "young man playing the guitar", "couple dancing at a wedding",
               "doctor talking to a patient", "kids reading books", "old man fishing",
               "woman working on a laptop"],
    "foods": ["homemade pizza with fresh basil", "chocolate cake with strawberries",
              "bowl of tomato soup", "grilled chicken with vegetables", "fresh fruit salad",
              "pancakes with maple syrup", "cup of coffee and a croissant",
              "spaghetti with meatballs", "avocado toast with eggs", "beef burger with fries",
              "green smoothie in a glass jar", "sushi rolls on a plate",
              "apple pie with vanilla ice cream", "bowl of ramen with egg",
              "roast turkey for thanksgiving dinner", "blueberry muffins on a cooling rack"],
    "times": ["at sunset", "in winter", "in the morning", "at night", "on a sunny day",
              "in autumn", "after the rain", "in spring", "in summer"],
    "templates": {
        "animal": ["{np_animal} sleeping {scene}", "{np_animal} playing {scene} {time}",
                   "close-up of a {np_animal} {scene}",
                   "portrait of a {np_animal} looking at the camera",
                   "funny {animal} {scene} {time}", "my {animal} {scene} {time}",
                   ("a {np_animal} resting {scene} {time}, photographed by an amateur "
                   "photographer with a vintage camera")],
        "product": ["{np_thing} on white background", "{np_thing} isolated on white",
                    "buy {np_thing} online at the best price",
                    "{np_thing} for sale, excellent condition", "{np_thing} with free shipping",
                    "product photo of a {np_thing} on a white background",
                    ("{np_thing} - handmade, high quality, the perfect gift for birthdays and "
                    "holidays, ships within 24 hours")],
        "people": ["{people} {scene}", "{people} {scene} {time}", "stock photo: {people} {scene}",
                   "{people} {scene} {time}. Royalty free image for commercial use"],
        "food": ["{food} on a wooden table", "easy recipe: {food} in 30 minutes",
                 "{food} at a restaurant in {city}", "top view of {food} on a white plate",
                 "{food} {scene}"],
        "travel": ["view of {city} {time}", "the old town of {city} {time}",
                   "travel guide: the best things to do in {city}",
                   "aerial view of {city} and the river", "a street in {city} {time}",
                   "{city} skyline {time}",
                   "our holiday in {city}: the view from the hotel window {time}"],
    },
    "suffixes": [" - stock photo", " | free download", ", high resolution image",
                 " - royalty free", " (photo by the author)"],
}

_LANGS["de"] = {
    "np_order": "pre",
    "animals": ["Katze|f", "Hund|m", "Pferd|n", "Vogel|m", "Kaninchen|n", "Kuh|f", "Fuchs|m",
                "Papagei|m", "Ente|f", "Schaf|n", "Welpe|m", "Kätzchen|n", "Eichhörnchen|n"],
    "adj_animals": ["kleiner|kleine|kleines", "junger|junge|junges",
                    "schwarzer|schwarze|schwarzes", "weißer|weiße|weißes",
                    "brauner|braune|braunes", "grauer|graue|graues", "süßer|süße|süßes",
                    "alter|alte|altes"],
    "things": ["Handtasche|f", "Rucksack|m", "Kleid|n", "Jacke|f", "Kaffeetasse|f",
               "Armbanduhr|f", "Sofa|n", "Sessel|m", "Tischlampe|f", "Holzstuhl|m",
               "Fahrrad|n", "Auto|n", "Regenschirm|m", "Koffer|m", "Vase|f", "Teekanne|f",
               "Schreibtisch|m", "Teppich|m", "Hut|m", "Schal|m"],
    "adj_things": ["roter|rote|rotes", "schwarzer|schwarze|schwarzes", "weißer|weiße|weißes",
                   "blauer|blaue|blaues", "grüner|grüne|grünes", "gelber|gelbe|gelbes",
                   "grauer|graue|graues", "brauner|braune|braunes",
                   "moderner|moderne|modernes", "eleganter|elegante|elegantes",
                   "neuer|neue|neues", "kleiner|kleine|kleines"],
    "scenes": ["am Strand", "im Park", "auf dem Sofa", "in der Küche", "auf der Straße",
               "im Garten", "auf dem Markt", "im Schnee", "am Fenster",
               "im Wald", "auf der Wiese", "am Bahnhof", "im Café", "im Wohnzimmer"],
    "cities": ["Berlin", "München", "Hamburg", "Wien", "Zürich", "Köln", "Dresden",
               "Heidelberg", "Salzburg", "Leipzig", "Bremen", "Innsbruck"],
    "people": ["junge Frau trinkt Kaffee", "Mann liest Zeitung", "Kinder spielen Fußball",
               "glückliche Familie beim Picknick", "älteres Paar geht mit dem Hund spazieren",
               "Geschäftsmann telefoniert", "Studenten lernen zusammen",
               "Mädchen fährt Fahrrad", "Frau macht Yoga", "Koch bereitet Nudeln zu",
               "Touristen machen Fotos", "Freunde lachen zusammen", "Junge isst ein Eis",
               "Mutter hält ihr Baby", "junger Mann spielt Gitarre"],
    "foods": ["hausgemachte Pizza mit frischem Basilikum", "Schokoladenkuchen mit Erdbeeren",
              "Teller mit Tomatensuppe", "gegrilltes Hähnchen mit Gemüse", "frischer Obstsalat",
              "Pfannkuchen mit Ahornsirup", "Kaffee und Croissant zum Frühstück",
              "Spaghetti mit Tomatensoße", "Brot mit Butter und Käse",
              "Apfelstrudel mit Vanillesoße", "Bratwurst mit Sauerkraut und Senf"],
    "times": ["bei Sonnenuntergang", "im Winter", "am Morgen", "in der Nacht",
              "an einem sonnigen Tag", "im Herbst", "nach dem Regen"],
    "templates": {
        "animal": ["{np_animal} schläft {scene}", "{np_animal} spielt {scene} {time}",
                   "Nahaufnahme: {np_animal} {scene}", "Süßes Foto: {np_animal} {scene} {time}",
                   "{np_animal} liegt {scene} und schaut in die Kamera, fotografiert {time}"],
        "product": ["{np_thing} auf weißem Hintergrund",
                    "{np_thing} – jetzt online kaufen zum besten Preis",
                    "{np_thing} zu verkaufen, sehr guter Zustand",
                    "Produktfoto: {np_thing} vor weißem Hintergrund",
                    "{np_thing} mit kostenlosem Versand innerhalb von zwei Tagen"],
        "people": ["{people} {scene}", "{people} {scene} {time}", "Stockfoto: {people} {scene}"],
        "food": ["{food} auf einem Holztisch", "Rezept: {food} in nur 30 Minuten",
                 "{food} in einem Restaurant in {city}"],
        "travel": ["Blick auf {city} {time}", "Die Altstadt von {city} {time}",
                   "Urlaub in {city}: die schönsten Sehenswürdigkeiten",
                   "Luftaufnahme von {city} mit dem Fluss", "Eine Straße in {city} {time}"],
    },
    "suffixes": [" – Stockfoto", " | kostenloser Download"],
}

_LANGS["fr"] = {
    "np_order": "post",
    "animals": ["chat|m", "chien|m", "cheval|m", "oiseau|m", "lapin|m", "vache|f", "canard|m",
                "perroquet|m", "renard|m", "chèvre|f", "mouton|m", "chaton|m", "chiot|m",
                "tortue|f"],
    "adj_animals": ["noir|noire", "blanc|blanche", "gris|grise", "mignon|mignonne",
                    "roux|rousse", "marron"],
    "things": ["sac à main|m", "sac à dos|m", "robe|f", "veste|f", "tasse à café|f",
               "montre|f", "canapé|m", "fauteuil|m", "lampe de chevet|f", "vélo|m",
               "voiture|f", "parapluie|m", "valise|f", "vase|m", "théière|f", "bureau|m",
               "tapis|m", "chapeau|m", "écharpe|f"],
    "adj_things": ["rouge", "noir|noire", "blanc|blanche", "bleu|bleue", "vert|verte", "jaune",
                   "gris|grise", "rose", "moderne", "élégant|élégante", "neuf|neuve",
                   "vintage"],
    "scenes": ["sur la plage", "dans le parc", "sur le canapé", "dans la cuisine",
               "dans la rue", "dans le jardin", "au marché", "dans la neige",
               "près de la fenêtre", "dans la forêt", "sur l'herbe",
               "à la gare", "dans un café", "dans le salon"],
    "cities": ["Paris", "Lyon", "Marseille", "Bordeaux", "Nice", "Strasbourg", "Toulouse",
               "Montréal", "Genève", "Bruxelles", "Nantes", "Lille"],
    "people": ["jeune femme qui boit un café", "homme qui lit le journal",
               "enfants qui jouent au football", "famille heureuse en pique-nique",
               "couple de retraités qui promène son chien", "homme d'affaires au téléphone",
               "étudiants qui travaillent ensemble", "petite fille à vélo",
               "femme qui fait du yoga", "chef qui prépare des pâtes",
               "touristes qui prennent des photos", "amis qui rient ensemble",
               "garçon qui mange une glace", "mère avec son bébé dans les bras",
               "jeune homme qui joue de la guitare"],
    "foods": ["pizza maison au basilic frais", "gâteau au chocolat et aux fraises",
              "bol de soupe à la tomate", "poulet rôti avec des légumes",
              "salade de fruits frais", "crêpes au sucre et au citron",
              "café et croissant au petit déjeuner", "spaghetti à la sauce tomate",
              "tarte aux pommes faite maison", "plateau de fromages et de charcuterie",
              "quiche lorraine et salade verte"],
    "times": ["au coucher du soleil", "en hiver", "le matin", "la nuit",
              "par une journée ensoleillée", "en automne", "après la pluie"],
    "templates": {
        "animal": ["{np_animal} qui dort {scene}", "{np_animal} qui joue {scene} {time}",
                   "Photo : {np_animal} {scene} {time}",
                   ("{np_animal} qui se repose {scene} {time}, photo prise par un photographe "
                   "amateur")],
        "product": ["{np_thing} sur fond blanc", "{np_thing} à vendre, très bon état",
                    "{np_thing} – livraison gratuite en 48h",
                    "Photo produit : {np_thing} sur fond blanc"],
        "people": ["{people} {scene}", "{people} {scene} {time}",
                   "Photo libre de droits : {people} {scene}"],
        "food": ["{food} sur une table en bois", "Recette facile : {food} en 30 minutes",
                 "{food} dans un restaurant de {city}"],
        "travel": ["Vue sur {city} {time}", "La vieille ville de {city} {time}",
                   "Vacances à {city} : les plus beaux endroits à visiter",
                   "Vue aérienne de {city} et de la rivière", "Une rue de {city} {time}"],
    },
    "suffixes": [" – photo libre de droits", " | téléchargement gratuit"],
}

_LANGS["es"] = {
    "np_order": "post",
    "animals": ["gato|m", "perro|m", "caballo|m", "pájaro|m", "conejo|m", "vaca|f", "pato|m",
                "loro|m", "zorro|m", "cabra|f", "oveja|f", "gatito|m", "cachorro|m",
                "tortuga|f"],
    "adj_animals": ["negro|negra", "blanco|blanca", "gris", "pequeño|pequeña",
                    "bonito|bonita", "marrón"],
    "things": ["bolso|m", "mochila|f", "vestido|m", "chaqueta|f", "taza de café|f", "reloj|m",
               "sofá|m", "sillón|m", "lámpara de mesa|f", "bicicleta|f", "coche|m",
               "paraguas|m", "maleta|f", "jarrón|m", "tetera|f", "escritorio|m", "alfombra|f",
               "sombrero|m", "bufanda|f"],
    "adj_things": ["rojo|roja", "negro|negra", "blanco|blanca", "azul", "verde",
                   "amarillo|amarilla", "gris", "rosa", "moderno|moderna", "elegante",
                   "nuevo|nueva", "pequeño|pequeña"],
    "scenes": ["en la playa", "en el parque", "en el sofá", "en la cocina", "en la calle",
               "en el jardín", "en el mercado", "en la nieve", "junto a la ventana", "en el bosque",
               "sobre la hierba",
               "en la estación de tren", "en una cafetería", "en el salón"],
    "cities": ["Madrid", "Barcelona", "Sevilla", "Valencia", "Granada", "Bilbao", "Málaga",
               "Buenos Aires", "Ciudad de México", "Bogotá", "Lima", "Santiago de Chile"],
    "people": ["mujer joven tomando café", "hombre leyendo el periódico",
               "niños jugando al fútbol", "familia feliz haciendo un picnic",
               "pareja de ancianos paseando al perro",
               "hombre de negocios hablando por teléfono", "estudiantes estudiando juntos",
               "niña montando en bicicleta", "mujer haciendo yoga",
               "cocinero preparando pasta", "turistas haciendo fotos", "amigos riendo juntos",
               "niño comiendo un helado", "madre con su bebé en brazos",
               "hombre joven tocando la guitarra"],
    "foods": ["pizza casera con albahaca fresca", "tarta de chocolate con fresas",
              "plato de sopa de tomate", "pollo asado con verduras",
              "ensalada de frutas frescas", "churros con chocolate caliente",
              "café con leche y tostadas", "paella de mariscos en la sartén",
              "tortilla de patatas casera", "tacos de carne con salsa verde",
              "gazpacho andaluz bien frío"],
    "times": ["al atardecer", "en invierno", "por la mañana", "de noche",
              "en un día soleado", "en otoño", "después de la lluvia"],
    "templates": {
        "animal": ["{np_animal} durmiendo {scene}", "{np_animal} jugando {scene} {time}",
                   "Primer plano: {np_animal} {scene}",
                   ("{np_animal} descansando {scene} {time}, una foto tomada por un fotógrafo "
                   "aficionado")],
        "product": ["{np_thing} sobre fondo blanco", "{np_thing} en venta, en muy buen estado",
                    "{np_thing} con envío gratis en 24 horas",
                    "Foto de producto: {np_thing} sobre fondo blanco"],
        "people": ["{people} {scene}", "{people} {scene} {time}",
                   "Foto de stock: {people} {scene}"],
        "food": ["{food} sobre una mesa de madera", "Receta fácil: {food} en 30 minutos",
                 "{food} en un restaurante de {city}"],
        "travel": ["Vista de {city} {time}", "El casco antiguo de {city} {time}",
                   "Vacaciones en {city}: los lugares más bonitos para visitar",
                   "Vista aérea de {city} y el río", "Una calle de {city} {time}"],
    },
    "suffixes": [" - foto de stock", " | descarga gratuita"],
}

_LANGS["it"] = {
    "np_order": "post",
    "animals": ["gatto|m", "cane|m", "cavallo|m", "uccello|m", "coniglio|m", "mucca|f",
                "anatra|f", "pappagallo|m", "volpe|f", "capra|f", "pecora|f", "gattino|m",
                "cucciolo|m", "tartaruga|f"],
    "adj_animals": ["nero|nera", "bianco|bianca", "grigio|grigia", "piccolo|piccola",
                    "bello|bella", "marrone"],
    "things": ["borsa|f", "zaino|m", "vestito|m", "giacca|f", "tazza da caffè|f",
               "orologio|m", "divano|m", "poltrona|f", "lampada da tavolo|f", "bicicletta|f",
               "macchina|f", "ombrello|m", "valigia|f", "vaso|m", "teiera|f", "scrivania|f",
               "tappeto|m", "cappello|m", "sciarpa|f"],
    "adj_things": ["rosso|rossa", "nero|nera", "bianco|bianca", "blu", "verde",
                   "giallo|gialla", "grigio|grigia", "rosa", "moderno|moderna", "elegante",
                   "nuovo|nuova", "piccolo|piccola"],
    "scenes": ["sulla spiaggia", "nel parco", "sul divano", "in cucina", "per strada",
               "in giardino", "al mercato", "sulla neve", "vicino alla finestra", "nel bosco",
               "sull'erba", "alla stazione", "in un bar",
               "in soggiorno"],
    "cities": ["Roma", "Milano", "Firenze", "Venezia", "Napoli", "Torino", "Bologna", "Verona",
               "Palermo", "Genova", "Siena", "Lucca"],
    "people": ["giovane donna che beve un caffè", "uomo che legge il giornale",
               "bambini che giocano a calcio", "famiglia felice durante un picnic",
               "coppia di anziani che porta a spasso il cane", "uomo d'affari al telefono",
               "studenti che studiano insieme", "bambina in bicicletta",
               "donna che fa yoga", "cuoco che prepara la pasta",
               "turisti che scattano foto", "amici che ridono insieme",
               "bambino che mangia un gelato", "madre con il suo bambino in braccio",
               "ragazzo che suona la chitarra"],
    "foods": ["pizza fatta in casa con basilico fresco", "torta al cioccolato con fragole",
              "piatto di zuppa di pomodoro", "pollo arrosto con verdure",
              "macedonia di frutta fresca", "cappuccino e cornetto a colazione",
              "spaghetti al pomodoro", "lasagne al forno fatte in casa",
              "risotto ai funghi porcini", "bruschetta con pomodoro e basilico",
              "tiramisù fatto in casa"],
    "times": ["al tramonto", "in inverno", "di mattina", "di notte",
              "in una giornata di sole", "in autunno", "dopo la pioggia"],
    "templates": {
        "animal": ["{np_animal} che dorme {scene}", "{np_animal} che gioca {scene} {time}",
                   "Primo piano: {np_animal} {scene}",
                   ("{np_animal} che riposa {scene} {time}, una foto scattata da un fotografo "
                   "amatoriale")],
        "product": ["{np_thing} su sfondo bianco", "{np_thing} in vendita, in ottime condizioni",
                    "{np_thing} con spedizione gratuita in 24 ore",
                    "Foto prodotto: {np_thing} su sfondo bianco"],
        "people": ["{people} {scene}", "{people} {scene} {time}", "Foto stock: {people} {scene}"],
        "food": ["{food} su un tavolo di legno", "Ricetta facile: {food} in 30 minuti",
                 "{food} in un ristorante di {city}"],
        "travel": ["Vista di {city} {time}", "Il centro storico di {city} {time}",
                   "Vacanze a {city}: i posti più belli da visitare",
                   "Veduta aerea di {city} e del fiume", "Una strada di {city} {time}"],
    },
}

_LANGS["pt"] = {
    "np_order": "post",
    "animals": ["gato|m", "cachorro|m", "cavalo|m", "pássaro|m", "coelho|m", "vaca|f", "pato|m",
                "papagaio|m", "raposa|f", "cabra|f", "ovelha|f", "gatinho|m", "filhote|m",
                "tartaruga|f"],
    "adj_animals": ["preto|preta", "branco|branca", "cinza", "pequeno|pequena",
                    "bonito|bonita", "marrom"],
    "things": ["bolsa|f", "mochila|f", "vestido|m", "jaqueta|f", "caneca de café|f",
               "relógio|m", "sofá|m", "poltrona|f", "luminária de mesa|f", "bicicleta|f",
               "carro|m", "guarda-chuva|m", "mala|f", "vaso|m", "bule|m", "escrivaninha|f",
               "tapete|m", "chapéu|m", "cachecol|m"],
    "adj_things": ["vermelho|vermelha", "preto|preta", "branco|branca", "azul", "verde",
                   "amarelo|amarela", "cinza", "rosa", "moderno|moderna", "elegante",
                   "novo|nova", "pequeno|pequena"],
    "scenes": ["na praia", "no parque", "no sofá", "na cozinha", "na rua", "no jardim",
               "na feira", "na neve", "perto da janela",
               "na floresta", "na grama", "na estação de trem", "em uma cafeteria",
               "na sala de estar"],
    "cities": ["Lisboa", "São Paulo", "Salvador", "Curitiba", "Florianópolis", "Brasília",
               "Coimbra", "Sintra", "Belo Horizonte", "Fortaleza", "Manaus", "Ouro Preto"],
    "people": ["mulher jovem tomando café", "homem lendo o jornal", "crianças jogando futebol",
               "família feliz fazendo um piquenique", "casal de idosos passeando com o cachorro",
               "homem de negócios falando ao telefone", "estudantes estudando juntos",
               "menina andando de bicicleta", "mulher fazendo ioga",
               "cozinheiro preparando macarrão", "turistas tirando fotos",
               "amigos rindo juntos", "menino tomando sorvete", "mãe com o bebê no colo",
               "jovem tocando violão"],
    "foods": ["pizza caseira com manjericão fresco", "bolo de chocolate com morangos",
              "prato de sopa de tomate", "frango assado com legumes",
              "salada de frutas frescas", "pão de queijo quentinho",
              "café com leite e pão na chapa", "feijoada completa com arroz e farofa",
              "pastel de nata da padaria", "açaí na tigela com banana",
              "moqueca de peixe com arroz"],
    "times": ["ao pôr do sol", "no inverno", "de manhã", "à noite", "em um dia de sol",
              "no outono", "depois da chuva"],
    "templates": {
        "animal": ["{np_animal} dormindo tranquilamente {scene}",
                   "{np_animal} brincando {scene} {time}",
                   "Foto: {np_animal} {scene} {time}",
                   ("{np_animal} descansando {scene} {time}, uma foto tirada por um fotógrafo "
                   "amador")],
        "product": ["{np_thing} com fundo branco, pronta entrega",
                    "{np_thing} à venda, em ótimo estado",
                    "{np_thing} com frete grátis para todo o Brasil",
                    "Foto do produto: {np_thing} em fundo branco"],
        "people": ["{people} {scene}", "{people} {scene} {time}",
                   "Imagem de banco de imagens: {people} {scene}"],
        "food": ["{food} em uma mesa de madeira", "Receita fácil: {food} em 30 minutos",
                 "{food} em um restaurante de {city}"],
        "travel": ["A cidade de {city} vista do alto {time}", "O centro histórico de {city} {time}",
                   "Férias em {city}: os lugares mais bonitos para visitar",
                   "Vista aérea da cidade de {city} e do rio", "Uma rua de {city} {time}"],
    },
}

_LANGS["nl"] = {
    "np_order": "pre",
    "animals": ["kat|m", "hond|m", "paard|n", "vogel|m", "konijn|n", "koe|m", "eend|m",
                "papegaai|m", "vos|m", "geit|m", "schaap|n", "kitten|m", "puppy|m",
                "schildpad|m"],
    "adj_animals": ["zwarte|zwarte|zwart", "witte|witte|wit", "grijze|grijze|grijs",
                    "kleine|kleine|klein", "bruine|bruine|bruin", "jonge|jonge|jong",
                    "lieve|lieve|lief"],
    "things": ["handtas|m", "rugzak|m", "jurk|m", "jas|m", "koffiemok|m", "horloge|n",
               "zitbank|m", "fauteuil|m", "tafellamp|m", "houten stoel|m", "fiets|m", "auto|m",
               "paraplu|m", "koffer|m", "vaas|m", "theepot|m", "bureau|n", "tapijt|n",
               "hoed|m", "sjaal|m"],
    "adj_things": ["rode|rode|rood", "zwarte|zwarte|zwart", "witte|witte|wit",
                   "blauwe|blauwe|blauw", "groene|groene|groen", "gele|gele|geel",
                   "grijze|grijze|grijs", "roze", "moderne|moderne|modern",
                   "elegante|elegante|elegant", "nieuwe|nieuwe|nieuw", "kleine|kleine|klein"],
    "scenes": ["op het strand", "in het park", "op de bank", "in de keuken", "op straat",
               "in de tuin", "op de markt", "in de sneeuw", "bij het raam", "in het bos",
               "op het gras", "op het station", "in een café",
               "in de woonkamer"],
    "cities": ["Amsterdam", "Rotterdam", "Utrecht", "Den Haag", "Gent", "Antwerpen",
               "Maastricht", "Groningen", "Delft", "Leiden", "Brugge", "Haarlem"],
    "people": ["jonge vrouw drinkt koffie", "man leest de krant", "kinderen spelen voetbal",
               "gelukkig gezin tijdens een picknick", "ouder echtpaar laat de hond uit",
               "zakenman aan de telefoon", "studenten studeren samen", "meisje op de fiets",
               "vrouw doet yoga", "kok maakt pasta klaar", "toeristen maken foto's",
               "vrienden lachen samen", "jongen eet een ijsje", "moeder met haar baby",
               "jonge man speelt gitaar"],
    "foods": ["zelfgemaakte pizza met verse basilicum", "chocoladetaart met aardbeien",
              "kom tomatensoep met brood", "gegrilde kip met groenten", "verse fruitsalade",
              "pannenkoeken met stroop", "koffie met appeltaart", "stamppot met rookworst",
              "broodje kaas met tomaat", "poffertjes met poedersuiker",
              "haring met uitjes van de markt"],
    "times": ["bij zonsondergang", "in de winter", "in de ochtend", "'s nachts",
              "op een zonnige dag", "in de herfst", "na de regen"],
    "templates": {
        "animal": ["{np_animal} slaapt lekker {scene}", "{np_animal} speelt {scene} {time}",
                   "Foto: {np_animal} {scene} {time}",
                   "{np_animal} ligt {scene} en kijkt naar de camera, gefotografeerd {time}"],
        "product": ["{np_thing} op een witte achtergrond",
                    "{np_thing} te koop, in zeer goede staat",
                    "{np_thing} met gratis verzending en snelle levering",
                    "Productfoto: {np_thing} op een witte achtergrond"],
        "people": ["{people} {scene}", "{people} {scene} {time}", "Stockfoto: {people} {scene}"],
        "food": ["{food} op een houten tafel", "Makkelijk recept: {food} in 30 minuten",
                 "{food} in een restaurant in {city}"],
        "travel": ["Uitzicht over {city} {time}", "De oude binnenstad van {city} {time}",
                   "Vakantie in {city}: de mooiste plekken om te bezoeken",
                   "Luchtfoto van {city} met de rivier", "Een straat in {city} {time}"],
    },
}

_LANGS["pl"] = {
    "np_order": "pre",
    "animals": ["kot|m", "pies|m", "koń|m", "ptak|m", "królik|m", "krowa|f", "kaczka|f",
                "papuga|f", "lis|m", "koza|f", "owca|f", "kotek|m", "szczeniak|m", "żółw|m"],
    "adj_animals": ["czarny|czarna|czarne", "biały|biała|białe", "szary|szara|szare",
                    "mały|mała|małe", "brązowy|brązowa|brązowe", "młody|młoda|młode",
                    "słodki|słodka|słodkie"],
    "things": ["torebka|f", "plecak|m", "sukienka|f", "kurtka|f", "kubek|m", "zegarek|m",
               "kanapa|f", "fotel|m", "lampka nocna|f", "krzesło|n", "rower|m", "samochód|m",
               "parasol|m", "walizka|f", "wazon|m", "czajnik|m", "biurko|n", "dywan|m",
               "kapelusz|m", "szalik|m"],
    "adj_things": ["czerwony|czerwona|czerwone", "czarny|czarna|czarne", "biały|biała|białe",
                   "niebieski|niebieska|niebieskie", "zielony|zielona|zielone",
                   "żółty|żółta|żółte", "szary|szara|szare", "różowy|różowa|różowe",
                   "nowoczesny|nowoczesna|nowoczesne", "elegancki|elegancka|eleganckie",
                   "nowy|nowa|nowe", "mały|mała|małe"],
    "scenes": ["na plaży", "w parku", "na kanapie", "w kuchni", "na ulicy", "w ogrodzie",
               "na targu", "na śniegu", "przy oknie", "w lesie",
               "na trawie", "na dworcu", "w kawiarni", "w salonie"],
    "cities": ["Warszawa", "Kraków", "Gdańsk", "Wrocław", "Poznań", "Zakopane", "Łódź",
               "Toruń", "Lublin", "Sopot", "Szczecin", "Katowice"],
    "people": ["młoda kobieta pije kawę", "mężczyzna czyta gazetę", "dzieci grają w piłkę",
               "szczęśliwa rodzina na pikniku", "starsza para spaceruje z psem",
               "biznesmen rozmawia przez telefon", "studenci uczą się razem",
               "dziewczynka jedzie na rowerze", "kobieta ćwiczy jogę", "kucharz gotuje makaron",
               "turyści robią zdjęcia", "przyjaciele śmieją się razem", "chłopiec je lody",
               "matka trzyma dziecko na rękach", "młody mężczyzna gra na gitarze"],
    "foods": ["domowa pizza ze świeżą bazylią", "ciasto czekoladowe z truskawkami",
              "talerz zupy pomidorowej", "pieczony kurczak z warzywami",
              "sałatka ze świeżych owoców", "naleśniki z serem i owocami",
              "kawa i rogalik na śniadanie", "pierogi ruskie ze śmietaną",
              "żurek z jajkiem i kiełbasą", "bigos w glinianym garnku",
              "szarlotka z lodami waniliowymi"],
    "times": ["o zachodzie słońca", "zimą", "rano", "nocą", "w słoneczny dzień", "jesienią",
              "po deszczu"],
    "templates": {
        "animal": ["{np_animal} śpi {scene}", "{np_animal} bawi się {scene} {time}",
                   "Zdjęcie: {np_animal} {scene} {time}",
                   ("{np_animal} odpoczywa {scene} {time}, zdjęcie zrobione przez fotografa "
                   "amatora")],
        "product": ["{np_thing} na białym tle", "{np_thing} na sprzedaż, stan bardzo dobry",
                    "{np_thing} z darmową dostawą do domu",
                    "Zdjęcie produktu: {np_thing} na białym tle"],
        "people": ["{people} {scene}", "{people} {scene} {time}",
                   "Zdjęcie stockowe: {people} {scene}"],
        "food": ["{food} na drewnianym stole", "Prosty przepis: {food} w 30 minut",
                 "{food} w restauracji w centrum miasta"],
        "travel": ["{city} {time} – widok z góry", "Panorama miasta: {city} {time}",
                   "Wakacje w Polsce: {city} i okolice", "Spacer po starym mieście {time}",
                   "Ulica w centrum miasta {time}"],
    },
}

_LANGS["ru"] = {
    "np_order": "pre",
    "animals": ["кошка|f", "собака|f", "лошадь|f", "птица|f", "кролик|m", "корова|f",
                "утка|f", "попугай|m", "лиса|f", "коза|f", "овца|f", "котёнок|m", "щенок|m",
                "черепаха|f"],
    "adj_animals": ["чёрный|чёрная|чёрное", "белый|белая|белое", "серый|серая|серое",
                    "маленький|маленькая|маленькое", "рыжий|рыжая|рыжее",
                    "молодой|молодая|молодое", "милый|милая|милое"],
    "things": ["сумка|f", "рюкзак|m", "платье|n", "куртка|f", "кружка|f", "диван|m",
               "кресло|n", "настольная лампа|f", "деревянный стул|m", "велосипед|m",
               "автомобиль|m", "зонт|m", "чемодан|m", "ваза|f", "чайник|m",
               "письменный стол|m", "ковёр|m", "шляпа|f", "шарф|m"],
    "adj_things": ["красный|красная|красное", "чёрный|чёрная|чёрное", "белый|белая|белое",
                   "синий|синяя|синее", "зелёный|зелёная|зелёное", "жёлтый|жёлтая|жёлтое",
                   "серый|серая|серое", "розовый|розовая|розовое",
                   "современный|современная|современное",
                   "элегантный|элегантная|элегантное", "новый|новая|новое",
                   "маленький|маленькая|маленькое"],
    "scenes": ["на пляже", "в парке", "на диване", "на кухне", "на улице", "в саду",
               "на рынке", "на снегу", "у окна", "в лесу", "на траве",
               "на вокзале", "в кафе", "в гостиной"],
    "cities": ["Москва", "Санкт-Петербург", "Казань", "Сочи", "Калининград", "Новосибирск",
               "Екатеринбург", "Владивосток", "Ярославль", "Нижний Новгород", "Суздаль",
               "Иркутск"],
    "people": ["молодая женщина пьёт кофе", "мужчина читает газету", "дети играют в футбол",
               "счастливая семья на пикнике", "пожилая пара гуляет с собакой",
               "бизнесмен разговаривает по телефону", "студенты учатся вместе",
               "девочка катается на велосипеде", "женщина занимается йогой",
               "повар готовит пасту", "туристы фотографируют", "друзья смеются вместе",
               "мальчик ест мороженое", "мама держит ребёнка на руках",
               "молодой человек играет на гитаре"],
    "foods": ["домашняя пицца со свежим базиликом", "шоколадный торт с клубникой",
              "тарелка томатного супа", "курица с овощами", "свежий фруктовый салат",
              "блины со сметаной и вареньем", "кофе и круассан на завтрак",
              "борщ со сметаной", "пельмени с маслом", "салат оливье на праздничном столе",
              "сырники с мёдом"],
    "times": ["на закате", "зимой", "утром", "ночью", "в солнечный день", "осенью",
              "после дождя"],
    "templates": {
        "animal": ["{np_animal} спит {scene}", "{np_animal} играет {scene} {time}",
                   "Фото: {np_animal} {scene} {time}",
                   ("{np_animal} отдыхает {scene} {time}, фотография сделана "
                   "фотографом-любителем")],
        "product": ["{np_thing} на белом фоне", "{np_thing}, продаётся, в отличном состоянии",
                    "{np_thing} с бесплатной доставкой по всей России",
                    "Фото товара: {np_thing} на белом фоне"],
        "people": ["{people} {scene}", "{people} {scene} {time}",
                   "Стоковое фото: {people} {scene}"],
        "food": ["{food} на деревянном столе", "Простой рецепт: {food} за 30 минут",
                 "{food} в ресторане в центре города"],
        "travel": ["{city} {time}: вид сверху", "Панорама города: {city} {time}",
                   "Путешествие по России: {city} и окрестности",
                   "Исторический центр города {time}", "Улица в центре города {time}"],
    },
}

_LANGS["ar"] = {
    "np_order": "post",
    "animals": ["قطة|f", "كلب|m", "حصان|m", "طائر|m", "أرنب|m", "بقرة|f", "بطة|f",
                "ببغاء|m", "ثعلب|m", "خروف|m", "سلحفاة|f", "جرو|m"],
    "adj_animals": ["أسود|سوداء", "أبيض|بيضاء", "صغير|صغيرة", "جميل|جميلة", "بني|بنية",
                    "رمادي|رمادية", "لطيف|لطيفة"],
    "things": ["حقيبة يد|f", "حقيبة ظهر|f", "فستان|m", "سترة|f", "كوب قهوة|m", "ساعة يد|f",
               "أريكة|f", "كرسي|m", "مصباح|m", "دراجة|f", "سيارة|f", "مظلة|f",
               "حقيبة سفر|f", "مزهرية|f", "إبريق شاي|m", "مكتب|m", "سجادة|f", "قبعة|f",
               "وشاح|m"],
    "adj_things": ["أحمر|حمراء", "أسود|سوداء", "أبيض|بيضاء", "أزرق|زرقاء", "أخضر|خضراء",
                   "أصفر|صفراء", "رمادي|رمادية", "وردي|وردية", "حديث|حديثة", "أنيق|أنيقة",
                   "جديد|جديدة", "صغير|صغيرة"],
    "scenes": ["على الشاطئ", "في الحديقة", "على الأريكة", "في المطبخ", "في الشارع",
               "في السوق", "على الثلج", "بجانب النافذة", "في الغابة",
               "على العشب", "في محطة القطار", "في المقهى", "في غرفة المعيشة", "في الصحراء"],
    "cities": ["دبي", "القاهرة", "الرياض", "بيروت", "مراكش", "عمّان", "الدوحة", "تونس",
               "الإسكندرية", "مسقط", "جدة", "أبوظبي"],
    "people": ["امرأة شابة تشرب القهوة", "رجل يقرأ الجريدة", "أطفال يلعبون كرة القدم",
               "عائلة سعيدة في نزهة", "زوجان مسنان يمشيان مع الكلب",
               "رجل أعمال يتحدث في الهاتف", "طلاب يدرسون معا", "فتاة تركب الدراجة",
               "امرأة تمارس اليوغا", "طباخ يحضر المعكرونة", "سياح يلتقطون الصور",
               "أصدقاء يضحكون معا", "صبي يأكل الآيس كريم", "أم تحمل طفلها",
               "شاب يعزف على الجيتار"],
    "foods": ["بيتزا منزلية مع الريحان الطازج", "كعكة الشوكولاتة مع الفراولة",
              "طبق من شوربة الطماطم", "دجاج مشوي مع الخضار", "سلطة فواكه طازجة",
              "حمص بزيت الزيتون", "قهوة عربية مع التمر", "فلافل مع الخبز والسلطة",
              "شاي بالنعناع", "كبسة باللحم والأرز", "كنافة بالجبن"],
    "times": ["عند غروب الشمس", "في الشتاء", "في الصباح", "في الليل", "في يوم مشمس",
              "في الخريف", "بعد المطر"],
    "templates": {
        "animal": ["صورة {np_animal} {scene}", "{np_animal} {scene} {time}",
                   "صورة {np_animal} {scene} {time}، التقطها مصور هاوٍ"],
        "product": ["{np_thing} على خلفية بيضاء", "{np_thing} للبيع بحالة ممتازة",
                    "{np_thing} مع شحن مجاني لجميع المدن",
                    "صورة المنتج: {np_thing} على خلفية بيضاء"],
        "people": ["{people} {scene}", "{people} {scene} {time}",
                   "صورة من بنك الصور: {people} {scene}"],
        "food": ["{food} على طاولة خشبية", "وصفة سهلة: {food} في 30 دقيقة",
                 "{food} في مطعم في {city}"],
        "travel": ["منظر {city} {time}", "المدينة القديمة في {city} {time}",
                   "عطلة في {city}: أجمل الأماكن للزيارة", "منظر جوي لمدينة {city}",
                   "شارع في {city} {time}"],
    },
}

_LANGS["hi"] = {
    "np_order": "pre",
    "animals": ["बिल्ली|f", "कुत्ता|m", "घोड़ा|m", "चिड़िया|f", "खरगोश|m", "गाय|f", "बत्तख|f",
                "तोता|m", "बकरी|f", "भेड़|f", "पिल्ला|m", "कछुआ|m"],
    "adj_animals": ["काला|काली", "सफ़ेद", "छोटा|छोटी", "प्यारा|प्यारी", "भूरा|भूरी", "सुंदर"],
    "things": ["बैग|m", "कार|f", "साइकिल|f", "सोफ़ा|m", "कुर्सी|f", "मेज़|f", "घड़ी|f",
               "छाता|m", "कप|m", "साड़ी|f", "कुर्ता|m", "लैंप|m", "सूटकेस|m", "फूलदान|m",
               "किताब|f", "टोपी|f"],
    "adj_things": ["लाल", "काला|काली", "सफ़ेद", "नीला|नीली", "हरा|हरी", "पीला|पीली",
                   "गुलाबी", "नया|नई", "सुंदर", "छोटा|छोटी"],
    "scenes": ["समुद्र तट पर", "पार्क में", "सोफ़े पर", "रसोई में", "सड़क पर", "बगीचे में",
               "बाज़ार में", "बर्फ़ में", "खिड़की के पास", "जंगल में",
               "घास पर", "रेलवे स्टेशन पर", "कैफ़े में", "घर में"],
    "cities": ["दिल्ली", "मुंबई", "जयपुर", "वाराणसी", "आगरा", "गोवा", "कोलकाता", "शिमला",
               "उदयपुर", "ऋषिकेश", "बेंगलुरु", "चेन्नई"],
    "people": ["चाय पीती हुई महिला", "अख़बार पढ़ता हुआ आदमी", "क्रिकेट खेलते हुए बच्चे",
               "पिकनिक मनाता हुआ खुश परिवार", "कुत्ते के साथ टहलते हुए बुज़ुर्ग दंपति",
               "फ़ोन पर बात करता हुआ व्यापारी", "साथ में पढ़ाई करते हुए छात्र",
               "साइकिल चलाती हुई लड़की", "योग करती हुई महिला", "खाना बनाता हुआ रसोइया",
               "तस्वीरें लेते हुए पर्यटक", "साथ में हँसते हुए दोस्त",
               "आइसक्रीम खाता हुआ लड़का", "बच्चे को गोद में लिए माँ",
               "गिटार बजाता हुआ युवक"],
    "foods": ["दाल और चावल", "गरम समोसे और चाय", "पनीर टिक्का", "मसाला डोसा और सांभर",
              "ताज़े फलों का सलाद", "आलू पराठा और दही", "छोले भटूरे", "गुलाब जामुन",
              "बिरयानी और रायता", "मसाला चाय और बिस्कुट"],
    "times": ["सूर्यास्त के समय", "सर्दियों में", "सुबह के समय", "रात में", "धूप वाले दिन",
              "बारिश के बाद"],
    "templates": {
        "animal": ["{scene} {np_animal} की तस्वीर", "{time} {scene} {np_animal}",
                   ("{time} {scene} {np_animal} की एक अच्छी तस्वीर, जिसे एक शौकिया "
                   "फ़ोटोग्राफ़र ने खींचा है")],
        "product": ["सफ़ेद पृष्ठभूमि पर {np_thing}",
                    "{np_thing} ऑनलाइन ख़रीदें, सबसे अच्छी क़ीमत पर",
                    "{np_thing} बिक्री के लिए, बहुत अच्छी हालत में"],
        "people": ["{scene} {people}", "{time} {scene} {people}", "स्टॉक फ़ोटो: {scene} {people}"],
        "food": ["लकड़ी की मेज़ पर स्वादिष्ट {food}", "आसान रेसिपी: घर पर बनाएं {food}",
                 "{city} के एक रेस्टोरेंट में {food}"],
        "travel": ["{time} {city} का सुंदर दृश्य", "{city} की पुरानी गलियाँ और बाज़ार",
                   "{city} यात्रा: घूमने की सबसे अच्छी जगहें", "{city} में सूर्यास्त का नज़ारा"],
    },
}

_LANGS["ja"] = {
    "np_order": "pre", "np_sep": "",
    "animals": ["猫", "子猫", "犬", "柴犬", "子犬", "うさぎ", "馬", "小鳥", "ハムスター", "パンダ",
                "金魚", "ペンギン"],
    "adj_animals": ["かわいい", "小さな", "白い", "黒い", "茶色の", "眠そうな"],
    "things": ["バッグ", "革の財布", "リュック", "ワンピース", "ジャケット", "マグカップ", "腕時計",
               "ソファ", "椅子", "照明", "自転車", "車", "傘", "スーツケース", "花瓶", "急須", "机",
               "帽子", "スニーカー", "着物"],
    "adj_things": ["赤い", "黒い", "白い", "青い", "緑の", "黄色い", "ピンクの", "茶色の", "新しい",
                   "おしゃれな", "シンプルな", "小さな"],
    "scenes": ["海辺", "公園", "ソファの上", "台所", "駅前", "庭", "市場", "雪の中",
               "窓辺", "森の中", "芝生の上", "喫茶店", "部屋の中", "神社"],
    "cities": ["東京", "京都", "大阪", "北海道", "沖縄", "横浜", "奈良", "鎌倉", "福岡", "神戸",
               "名古屋", "金沢"],
    "people": ["コーヒーを飲む女性", "新聞を読む男性", "サッカーをする子供たち",
               "ピクニックを楽しむ家族",
               "犬と散歩する老夫婦", "電話で話すビジネスマン", "一緒に勉強する学生たち",
               "自転車に乗る女の子", "ヨガをする女性", "料理をするシェフ", "写真を撮る観光客",
               "笑い合う友人たち", "アイスクリームを食べる男の子", "赤ちゃんを抱く母親",
               "ギターを弾く若い男性"],
    "foods": ["ラーメン", "寿司", "天ぷら", "お好み焼き", "カレーライス", "抹茶ラテ", "焼き鳥",
              "味噌汁とご飯", "いちごのショートケーキ", "和牛ステーキ", "手作りのお弁当",
              "たこ焼き"],
    "times": ["夕暮れ", "冬", "朝", "夜", "晴れた日", "秋", "雨上がり", "春", "夏"],
    "templates": {
        "animal": ["{scene}で寝ている{np_animal}の写真", "{scene}で遊んでいる{np_animal}",
                   "{time}の{scene}でのんびりくつろいでいる{np_animal}",
                   "{scene}で気持ちよさそうに眠る{np_animal}。{time}に撮影した一枚です"],
        "product": ["{np_thing}の商品画像（白背景）", "【送料無料】{np_thing}（新品）",
                    "{np_thing}を販売中！お得な価格でお届けします"],
        "people": ["{scene}で{people}", "{time}の{scene}で{people}",
                   "フリー素材：{scene}で{people}"],
        "food": ["美味しい{food}の写真", "{city}で食べた{food}",
                 "簡単レシピ：おうちで作れる{food}の作り方"],
        "travel": ["{city}の夜景", "{time}の{city}の風景", "{city}旅行：おすすめの観光スポット",
                   "{city}の街並みと青い空がとてもきれいです", "上空から見た{city}の景色"],
    },
    "suffixes": ["（フリー素材）", "｜写真素材"],
}

_LANGS["zh"] = {
    "np_order": "pre", "np_sep": "",
    "animals": ["猫", "小猫", "狗", "小狗", "兔子", "马", "小鸟", "熊猫", "金鱼", "鹦鹉", "仓鼠",
                "企鹅"],
    "adj_animals": ["可爱的", "白色的", "黑色的", "胖乎乎的", "调皮的", "毛茸茸的"],
    "things": ["手提包", "钱包", "双肩包", "连衣裙", "夹克", "马克杯", "手表", "沙发", "椅子",
               "台灯",
               "自行车", "汽车", "雨伞", "行李箱", "花瓶", "茶壶", "书桌", "帽子",
               "运动鞋", "旗袍"],
    "adj_things": ["红色", "黑色", "白色", "蓝色", "绿色", "黄色", "粉色", "灰色", "新款", "复古",
                   "简约", "时尚"],
    "scenes": ["沙发上", "草地上", "窗台上", "海滩上", "公园里", "花园里", "厨房里", "街上",
               "雪地里", "森林里", "咖啡馆里", "客厅里", "市场上"],
    "cities": ["北京", "上海", "广州", "深圳", "杭州", "成都", "西安", "苏州", "重庆", "厦门",
               "桂林", "香港"],
    "people": ["喝咖啡的年轻女子", "看报纸的男人", "踢足球的孩子们", "野餐的一家人", "遛狗的老夫妇",
               "打电话的商人", "一起学习的学生们", "骑自行车的女孩", "做瑜伽的女人", "做饭的厨师",
               "拍照的游客", "一起聊天的朋友们", "吃冰淇淋的男孩", "抱着宝宝的妈妈",
               "弹吉他的年轻人"],
    "foods": ["北京烤鸭", "饺子", "火锅", "红烧肉", "蛋炒饭", "牛肉面", "小笼包", "水果沙拉",
              "麻婆豆腐", "宫保鸡丁", "月饼", "奶茶"],
    "times": ["傍晚", "冬天", "早上", "夜晚", "晴天", "秋天", "雨后", "春天", "夏天"],
    "templates": {
        "animal": ["{np_animal}正在{scene}睡觉", "{np_animal}在{scene}玩耍的照片",
                   "{time}的时候，{np_animal}在{scene}晒太阳",
                   "{time}拍摄的{np_animal}，它正在{scene}安静地休息，非常可爱"],
        "product": ["这款{np_thing}的产品图片，白色背景",
                    "{np_thing}的产品图片，白色背景，高清大图",
                    "{np_thing}实拍图"],
        "people": ["在{scene}{people}", "{time}的时候，在{scene}{people}",
                   "图片素材：在{scene}{people}"],
        "food": ["{city}有哪些特色美食？推荐{food}", "{food}的家常做法，简单又好吃，一学就会",
                 "{city}的一家餐厅里的{food}"],
        "travel": ["{time}的{city}风景照片", "去{city}旅游必去的景点有哪些",
                   "从高空俯瞰{city}的城市风光",
                   "我们在{city}拍的照片"],
    },
    "suffixes": ["，高清图片免费下载", "（图片来自网络）"],
}

_LANGS["ko"] = {
    "np_order": "pre",
    "animals": ["고양이", "강아지", "아기 고양이", "토끼", "말", "새", "햄스터", "판다", "펭귄",
                "앵무새", "오리", "다람쥐"],
    "adj_animals": ["귀여운", "작은", "하얀", "검은", "졸린", "사랑스러운"],
    "things": ["가방", "지갑", "백팩", "원피스", "재킷", "머그컵", "손목시계", "소파", "의자",
               "스탠드 조명", "자전거", "자동차", "우산", "여행 가방", "꽃병", "찻주전자", "책상",
               "모자", "운동화", "한복"],
    "adj_things": ["빨간", "검은", "하얀", "파란", "초록색", "노란", "분홍색", "새로운", "세련된",
                   "심플한", "작은", "예쁜"],
    "scenes": ["해변에서", "공원에서", "소파 위에서", "부엌에서", "거리에서", "정원에서",
               "시장에서", "눈 속에서", "창가에서", "숲속에서", "잔디 위에서", "카페에서",
               "거실에서"],
    "cities": ["서울", "부산", "제주도", "경주", "인천", "강릉", "대구", "전주", "여수", "속초"],
    "people": ["커피를 마시는 여자", "신문을 읽는 남자", "축구를 하는 아이들", "소풍을 즐기는 가족",
               "강아지와 산책하는 노부부", "전화 통화를 하는 회사원", "함께 공부하는 학생들",
               "자전거를 타는 소녀", "요가를 하는 여자", "요리를 하는 요리사", "사진을 찍는 관광객",
               "함께 웃는 친구들", "아이스크림을 먹는 소년", "아기를 안고 있는 엄마",
               "기타를 치는 청년"],
    "foods": ["김치찌개", "비빔밥", "불고기", "떡볶이", "삼겹살", "김밥", "라면", "냉면",
              "된장찌개", "해물파전", "치킨과 맥주", "팥빙수"],
    "times": ["해질녘", "겨울", "아침", "밤", "맑은 날", "가을", "비 온 뒤", "봄", "여름"],
    "templates": {
        "animal": ["{scene} 자고 있는 {np_animal}", "{scene} 놀고 있는 {np_animal} 사진",
                   "{time} {scene} 쉬고 있는 {np_animal}",
                   "{time} {scene} 낮잠을 자는 {np_animal}, 정말 귀여운 모습을 사진으로 담았어요"],
        "product": ["{np_thing} 상품 이미지 (흰색 배경)", "{np_thing} 무료 배송 할인 이벤트",
                    "인기 상품 {np_thing} 최저가 판매"],
        "people": ["{scene} {people}", "{time} {scene} {people}", "무료 이미지: {scene} {people}"],
        "food": ["정말 맛있는 {food} 사진", "{city} 맛집에서 먹은 {food}",
                 "집에서 만드는 {food} 레시피"],
        "travel": ["{city}의 아름다운 야경 사진", "{time} {city} 여행 사진",
                   "{city} 여행 추천 코스와 명소",
                   "하늘에서 본 {city}의 풍경"],
    },
}

_LANGS["th"] = {
    "np_order": "post", "np_sep": "",
    "animals": ["แมว", "ลูกแมว", "สุนัข", "ลูกสุนัข", "กระต่าย", "ม้า", "นก", "ช้าง", "เป็ด",
                "แพนด้า"],
    "adj_animals": ["สีดำ", "สีขาว", "สีน้ำตาล", "น่ารัก", "ตัวเล็ก", "ขนฟู"],
    "things": ["กระเป๋า", "กระเป๋าสตางค์", "เป้", "ชุดเดรส", "เสื้อแจ็คเก็ต", "แก้วกาแฟ",
               "นาฬิกาข้อมือ", "โซฟา", "เก้าอี้", "โคมไฟ", "จักรยาน", "รถยนต์", "ร่ม",
               "กระเป๋าเดินทาง", "แจกัน", "หมวก", "รองเท้าผ้าใบ", "เสื้อยืด"],
    "adj_things": ["สีแดง", "สีดำ", "สีขาว", "สีฟ้า", "สีเขียว", "สีเหลือง", "สีชมพู", "สีเทา",
                   "รุ่นใหม่", "สไตล์วินเทจ"],
    "scenes": ["บนโซฟา", "ในสวน", "ริมหน้าต่าง", "บนชายหาด", "ในสวนสาธารณะ", "ในครัว",
               "บนถนน", "ในตลาด", "ในป่า", "บนสนามหญ้า", "ในร้านกาแฟ",
               "ในห้องนั่งเล่น", "ที่วัด"],
    "cities": ["กรุงเทพ", "เชียงใหม่", "ภูเก็ต", "กระบี่", "พัทยา", "หัวหิน", "อยุธยา",
               "เชียงราย", "เกาะสมุย", "ขอนแก่น"],
    "people": ["ผู้หญิงดื่มกาแฟ", "ผู้ชายอ่านหนังสือพิมพ์", "เด็กๆเล่นฟุตบอล",
               "ครอบครัวมีความสุขกำลังปิกนิก", "คู่สามีภรรยาสูงอายุเดินเล่นกับสุนัข",
               "นักธุรกิจคุยโทรศัพท์", "นักเรียนอ่านหนังสือด้วยกัน", "เด็กผู้หญิงขี่จักรยาน",
               "ผู้หญิงเล่นโยคะ", "พ่อครัวทำอาหาร", "นักท่องเที่ยวถ่ายรูป",
               "เพื่อนๆหัวเราะด้วยกัน", "เด็กผู้ชายกินไอศกรีม", "แม่อุ้มลูก",
               "ชายหนุ่มเล่นกีตาร์"],
    "foods": ["ต้มยำกุ้ง", "ผัดไทย", "ส้มตำ", "ข้าวมันไก่", "แกงเขียวหวาน", "ข้าวเหนียวมะม่วง",
              "ข้าวผัด", "ก๋วยเตี๋ยว", "ชาไทย", "หมูกระทะ"],
    "times": ["ตอนพระอาทิตย์ตก", "ในฤดูหนาว", "ตอนเช้า", "ตอนกลางคืน", "ในวันที่อากาศดี",
              "หลังฝนตก"],
    "templates": {
        "animal": ["ภาพ{np_animal}นอนหลับ{scene}", "{np_animal}กำลังเล่น{scene}{time}",
                   "รูป{np_animal}นั่ง{scene}",
                   "ภาพ{np_animal}นอนพักผ่อน{scene}{time}ถ่ายโดยช่างภาพสมัครเล่น"],
        "product": ["{np_thing}ราคาถูกส่งฟรีทั่วประเทศ", "ภาพสินค้า{np_thing}พื้นหลังสีขาว",
                    "{np_thing}ของแท้พร้อมส่ง"],
        "people": ["{people}{scene}", "{people}{scene}{time}", "ภาพสต็อก{people}{scene}"],
        "food": ["{food}อร่อยมากที่ร้านอาหารใน{city}", "วิธีทำ{food}แบบง่ายๆที่บ้าน",
                 "อาหารไทย{food}จานเด็ด"],
        "travel": ["วิวสวยๆที่{city}{time}", "เที่ยว{city}ด้วยตัวเองสถานที่ท่องเที่ยวที่ห้ามพลาด",
                   "บรรยากาศยามเย็นที่{city}", "ภาพมุมสูงของเมือง{city}"],
    },
}

_LANGS["vi"] = {
    "np_order": "post",
    "animals": ["con mèo", "con chó", "con ngựa", "con chim", "con thỏ", "con vịt", "chú mèo con",
                "chú chó con", "con gà", "con bò"],
    "adj_animals": ["đen", "trắng", "nhỏ", "dễ thương", "màu nâu", "mập mạp"],
    "things": ["túi xách", "ví da", "ba lô", "váy", "áo khoác", "cốc cà phê", "đồng hồ đeo tay",
               "ghế sofa", "ghế gỗ", "đèn bàn", "xe đạp", "xe ô tô", "chiếc ô", "vali", "lọ hoa",
               "ấm trà", "bàn làm việc", "mũ", "giày thể thao", "áo dài"],
    "adj_things": ["màu đỏ", "màu đen", "màu trắng", "màu xanh", "màu vàng", "màu hồng",
                   "màu xám", "màu nâu", "kiểu mới", "phong cách cổ điển", "giá rẻ"],
    "scenes": ["trên bãi biển", "trong công viên", "trên ghế sofa", "trong nhà bếp",
               "trên đường phố", "trong vườn", "ở chợ", "trên tuyết", "bên cửa sổ", "trong rừng",
               "trên bãi cỏ", "ở quán cà phê", "trong phòng khách",
               "ở ga tàu"],
    "cities": ["Hà Nội", "Đà Nẵng", "Hội An", "Nha Trang", "Huế", "Sài Gòn", "Đà Lạt",
               "Hạ Long", "Phú Quốc", "Sa Pa", "Cần Thơ", "Vũng Tàu"],
    "people": ["cô gái trẻ uống cà phê", "người đàn ông đọc báo", "trẻ em chơi bóng đá",
               "gia đình hạnh phúc đi dã ngoại", "cặp vợ chồng già dắt chó đi dạo",
               "doanh nhân nói chuyện điện thoại", "sinh viên học bài cùng nhau", "bé gái đạp xe",
               "người phụ nữ tập yoga", "đầu bếp nấu ăn", "khách du lịch chụp ảnh",
               "những người bạn cười đùa", "cậu bé ăn kem", "người mẹ bế con",
               "chàng trai chơi đàn guitar"],
    "foods": ["phở bò", "bánh mì thịt", "bún chả", "cơm tấm", "gỏi cuốn", "bánh xèo",
              "cà phê sữa đá", "bún bò Huế", "chè ba màu", "cơm gà", "bánh cuốn",
              "lẩu hải sản"],
    "times": ["lúc hoàng hôn", "vào mùa đông", "vào buổi sáng", "vào ban đêm",
              "trong một ngày nắng đẹp", "vào mùa thu", "sau cơn mưa"],
    "templates": {
        "animal": ["{np_animal} đang ngủ {scene}", "{np_animal} đang chơi đùa {scene} {time}",
                   "Hình ảnh {np_animal} {scene}",
                   ("{np_animal} nằm nghỉ {scene} {time}, ảnh được chụp bởi một nhiếp ảnh gia "
                   "nghiệp dư")],
        "product": ["{np_thing} trên nền trắng", "{np_thing} chính hãng, giao hàng miễn phí",
                    "Bán {np_thing} giá tốt nhất"],
        "people": ["{people} {scene}", "{people} {scene} {time}", "Ảnh stock: {people} {scene}"],
        "food": ["Món {food} ngon tại {city}", "Cách làm {food} đơn giản tại nhà",
                 "{food} trên bàn gỗ"],
        "travel": ["Toàn cảnh {city} {time}", "Du lịch {city}: những địa điểm đẹp nhất",
                   "Đường phố {city} {time}", "Ảnh chụp từ trên cao của {city}"],
    },
}

_LANGS["tr"] = {
    "np_order": "pre",
    "animals": ["kedi", "köpek", "at", "kuş", "tavşan", "inek", "ördek", "papağan", "tilki",
                "kuzu", "yavru kedi", "köpek yavrusu"],
    "adj_animals": ["siyah", "beyaz", "küçük", "sevimli", "kahverengi", "gri", "tatlı"],
    "things": ["çanta", "cüzdan", "sırt çantası", "elbise", "ceket", "kupa", "kol saati",
               "kanepe", "sandalye", "masa lambası", "bisiklet", "araba", "şemsiye", "bavul",
               "vazo", "çaydanlık", "çalışma masası", "şapka", "spor ayakkabı", "halı"],
    "adj_things": ["kırmızı", "siyah", "beyaz", "mavi", "yeşil", "sarı", "gri", "pembe",
                   "modern", "şık", "yeni", "küçük"],
    "scenes": ["kanepede", "bahçede", "pencerenin önünde", "plajda", "parkta", "mutfakta",
               "sokakta", "pazarda", "karda", "ormanda", "çimlerin üzerinde",
               "kafede", "oturma odasında", "tren istasyonunda"],
    "cities": ["İstanbul", "Ankara", "İzmir", "Antalya", "Kapadokya", "Bodrum", "Trabzon",
               "Bursa", "Fethiye", "Mardin", "Eskişehir", "Çeşme"],
    "people": ["kahve içen genç kadın", "gazete okuyan adam", "futbol oynayan çocuklar",
               "piknik yapan mutlu aile", "köpeğini gezdiren yaşlı çift",
               "telefonla konuşan iş adamı", "birlikte ders çalışan öğrenciler",
               "bisiklet süren kız çocuğu", "yoga yapan kadın", "yemek pişiren aşçı",
               "fotoğraf çeken turistler", "birlikte gülen arkadaşlar",
               "dondurma yiyen erkek çocuk", "bebeğini kucağında tutan anne",
               "gitar çalan genç adam"],
    "foods": ["mercimek çorbası", "İskender kebap", "lahmacun", "baklava", "menemen", "mantı",
              "Türk kahvesi", "pide", "simit ve çay", "künefe", "köfte ve pilav"],
    "times": ["gün batımında", "kışın", "sabah", "gece", "güneşli bir günde", "sonbaharda",
              "yağmurdan sonra"],
    "templates": {
        "animal": ["{scene} uyuyan {np_animal}", "{time} {scene} oynayan {np_animal}",
                   "{scene} dinlenen {np_animal} fotoğrafı",
                   ("{time} {scene} huzur içinde uyuyan {np_animal}, amatör bir fotoğrafçı "
                   "tarafından çekildi")],
        "product": ["Beyaz arka plan üzerinde şık bir {np_thing} fotoğrafı",
                    "{np_thing} en uygun fiyatla satışta",
                    "Ücretsiz kargo ile {np_thing}", "Satılık {np_thing}, çok temiz durumda"],
        "people": ["{scene} {people}", "{time} {scene} {people}",
                   "Stok fotoğraf: {scene} {people}"],
        "food": ["Ahşap masanın üzerinde çok lezzetli bir {food}",
                 "Kolay tarif: evde {food} nasıl yapılır",
                 "{city} gezisinde yediğimiz {food}"],
        "travel": ["{time} çekilmiş güzel bir {city} manzarası",
                   "{city} gezi rehberi: görülmesi gereken yerler",
                   "Drone ile çekilmiş havadan {city} manzarası", "{city} sokaklarında bir gün"],
    },
}

_LANGS["id"] = {
    "np_order": "post",
    "animals": ["kucing", "anjing", "kuda", "burung", "kelinci", "sapi", "bebek", "burung beo",
                "kambing", "anak kucing", "anak anjing", "kura-kura"],
    "adj_animals": ["hitam", "putih", "kecil", "lucu", "cokelat", "abu-abu", "gemuk"],
    "things": ["tas tangan", "dompet kulit", "ransel", "gaun", "jaket", "cangkir kopi",
               "jam tangan", "sofa", "kursi kayu", "lampu meja", "sepeda", "mobil", "payung",
               "koper", "vas bunga", "teko", "meja kerja", "topi", "sepatu", "kain batik"],
    "adj_things": ["merah", "hitam", "putih", "biru", "hijau", "kuning", "abu-abu",
                   "merah muda", "modern", "elegan", "baru", "murah"],
    "scenes": ["di pantai", "di taman", "di atas sofa", "di dapur", "di jalan", "di kebun",
               "di pasar", "di dekat jendela", "di hutan",
               "di atas rumput", "di kafe", "di ruang tamu", "di stasiun kereta", "di sawah"],
    "cities": ["Bali", "Jakarta", "Yogyakarta", "Bandung", "Lombok", "Surabaya", "Labuan Bajo",
               "Malang", "Semarang", "Medan", "Makassar", "Bogor"],
    "people": ["wanita muda sedang minum kopi", "pria sedang membaca koran",
               "anak-anak bermain sepak bola", "keluarga bahagia sedang piknik",
               "pasangan lansia berjalan-jalan dengan anjing", "pengusaha sedang menelepon",
               "mahasiswa belajar bersama", "gadis kecil naik sepeda", "wanita sedang yoga",
               "koki sedang memasak", "turis sedang berfoto", "teman-teman tertawa bersama",
               "anak laki-laki makan es krim", "ibu menggendong bayinya",
               "pemuda bermain gitar"],
    "foods": ["nasi goreng", "sate ayam", "rendang daging", "bakso", "gado-gado", "mie ayam",
              "soto ayam", "nasi padang", "martabak manis", "pisang goreng", "ayam geprek"],
    "times": ["saat matahari terbenam", "pada musim hujan", "pada pagi hari",
              "pada malam hari", "di hari yang cerah", "setelah hujan"],
    "templates": {
        "animal": ["Seekor {np_animal} yang sedang tidur {scene}",
                   "{np_animal} sedang bermain {scene} {time}",
                   "Gambar {np_animal} yang sedang bersantai {scene}",
                   ("{np_animal} sedang bersantai {scene} {time}, difoto oleh seorang fotografer "
                   "amatir")],
        "product": ["Foto produk {np_thing} dengan latar belakang warna putih, siap kirim",
                    "Jual {np_thing} dengan harga murah, bisa bayar di tempat",
                    "{np_thing} original kualitas terbaik"],
        "people": ["{people} {scene}", "{people} {scene} {time}",
                   "Foto stok gratis: {people} {scene}"],
        "food": ["{food} yang enak dan murah di {city}", "Resep {food} sederhana ala rumahan",
                 "Sepiring {food} yang disajikan di atas meja kayu"],
        "travel": ["Pemandangan {city} {time}", "Liburan ke {city}: tempat wisata terbaik",
                   "Foto udara {city} dari atas", "Suasana jalanan di {city} yang ramai {time}"],
    },
}

# Bad rows: captions in languages outside MAIN_LANGUAGES (no metadata for them).
_FOREIGN_CAPTIONS: dict[str, list[str]] = {
    "sw": ["Paka mweusi amelala juu ya kiti sebuleni",
           "Picha ya ufukwe wa bahari huko Zanzibar wakati wa jioni",
           "Watoto wanacheza mpira wa miguu katika uwanja wa shule",
           "Soko la matunda katika mji wa Mombasa", "Chai na mkate kwenye meza ya mbao nyumbani",
           "Simba wakipumzika katika mbuga ya Serengeti"],
    # lid.176 often mistakes short Latin for en/fr/it: realistic noise, kept on purpose
    "la": ["Puellae et pueri in schola linguam Latinam discunt",
           "Agricola in agro cum equo laborat", "Urbs Roma nocte lucet et populus in viis ambulat",
           "Nauta in navi magna per mare navigat", "Templum antiquum sub caelo caeruleo",
           "Canis fidelis dominum suum in silva exspectat"],
    "eo": ["Nigra kato dormas trankvile sur la sofo en la ĉambro",
           "Bela vido al la maro dum la somero", "Knabino legas libron en la parko kun sia hundo",
           "Freŝa pano kaj kafo por matenmanĝo", "Malnova preĝejo en la centro de la urbo",
           "Infanoj ludas futbalon sur la strato"],
}

# Bad rows: mojibake (bytes decoded with the wrong codec upstream) -> U+FFFD in the text.
_MOJIBAKE_CAPTIONS: list[tuple[str, str]] = [
    ("fr", "Caf\ufffd au lait sur la terrasse d'un caf\ufffd \ufffd Paris"),
    ("de", "Sch\ufffdne Aussicht auf die Berge im Winter"),
    ("es", "Ni\ufffdos jugando en la playa de M\ufffdlaga"),
    ("pt", "Cora\ufffd\ufffdo de chocolate para o Dia dos Namorados"),
    ("de", "Gr\ufffdner Salat mit frischen Tomaten und K\ufffdse"),
    ("fr", "Cr\ufffdpes au sucre pour le go\ufffdter des enfants"),
    ("es", "Ma\ufffdana soleada en el centro de la ciudad"),
    ("pl", "Zdj\ufffdcie kota \ufffdpi\ufffdcego na kanapie"),
]

_WHITESPACE_TEXTS = [" ", "   ", "\t", "\n", " \n\t ", "\u3000", "\u00a0", "\r\n"]
_CONSONANTS = "bcdfghjklmnpqrstvwxz"
_FILE_NAME_PATTERNS = ["IMG_{n4}.JPG", "DSC_{n4}.jpg", "P10{n5}.JPG", "DSCF{n4}.JPG",
                       "image_{hex6}.png", "_MG_{n4}.CR2", "GOPR{n4}.JPG", "PXL_2023{n4}_{n5}.jpg"]

# ---------------------------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------------------------

_GENERIC_DOMAINS = [
    "cdn.shopwave-media.com", "images.brightcart.net", "static.pixelharbor.com",
    "img.travelnest-blog.com", "media.cookingcorner.org", "photos.petpalsdaily.com",
    "assets.urbanthreads.store", "i.stockframe.net", "uploads.homecraftideas.com",
    "cdn.dailylens.io", "img.marketbay-online.com", "static.wanderlog-pages.com",
    "images.freshplate-recipes.com", "content.lumenphoto.org", "cdn.gadgetgrove.shop",
    "media.cozyhome-decor.com", "img.fotoatlas-cdn.net",
]
_LOCAL_DOMAINS: dict[str, list[str]] = {
    "de": ["bilder.einkaufswelt24.de", "static.reiseblog-sonnenschein.de"],
    "fr": ["images.boutique-lumiere.fr", "medias.cuisine-facile.fr"],
    "es": ["img.tiendacasa.es", "fotos.viajeros-blog.es"],
    "pt": ["imagens.lojabarata.com.br", "fotos.receitasdavovo.com.br"],
    "it": ["immagini.negoziobello.it", "foto.ricette-casa.it"],
    "nl": ["afbeeldingen.winkelplein.nl"],
    "pl": ["zdjecia.sklepik24.pl"],
    "ru": ["img.magazin-tovary.ru", "static.puteshestviya-blog.ru"],
    "ja": ["img.shop-sakura.jp", "image.tabi-nikki.jp"],
    "zh": ["img.taogou-mall.cn", "pic.lvyou-zhinan.cn"],
    "ko": ["img.shoppingmall-ko.kr", "cdn.matjip-review.co.kr"],
    "ar": ["cdn.souq-alwadi.ae"],
    "hi": ["images.bharat-bazaar.in"],
    "th": ["img.thaishop-online.co.th"],
    "vi": ["anh.cuahang-vn.vn"],
    "tr": ["resim.alisveris-dunyasi.com.tr"],
    "id": ["img.tokobagus-online.co.id"],
}
_PATHS = ["wp-content/uploads/{year}/{month}", "images/products", "media/catalog/product/{h}/{h2}",
          "photos/{year}", "cdn/shop/files", "uploads/{year}/{month}", "img/blog", "static/gallery",
          "assets/images", "pictures/large"]
_EXTENSIONS = [("jpg", 70), ("jpeg", 8), ("png", 12), ("webp", 10)]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_GENDER_INDEX = {"": 0, "m": 0, "f": 1, "n": 2}


def _weighted(rng: random.Random, items: list[tuple[str, float]]) -> str:
    total = sum(w for _, w in items)
    x = rng.random() * total
    for item, w in items:
        x -= w
        if x < 0:
            return item
    return items[-1][0]


def _noun_phrase(lang: str, kind: str, rng: random.Random) -> str:
    data = _LANGS[lang]
    noun, _, gender = rng.choice(data[kind]).partition("|")
    if rng.random() >= 0.85:
        return noun
    forms = rng.choice(data["adj_" + kind]).split("|")
    adj = forms[min(_GENDER_INDEX[gender], len(forms) - 1)]
    style = data.get("adj_style_" + kind)
    if style and rng.random() < 0.3:
        adj = rng.choice(style) + " " + adj
    sep = data.get("np_sep", " ")
    return adj + sep + noun if data["np_order"] == "pre" else noun + sep + adj


def _slot(lang: str, name: str, rng: random.Random) -> str:
    if name == "np_animal":
        return _noun_phrase(lang, "animals", rng)
    if name == "np_thing":
        return _noun_phrase(lang, "things", rng)
    plural = {"animal": "animals", "thing": "things", "scene": "scenes", "city": "cities",
              "food": "foods", "time": "times", "people": "people"}[name]
    return rng.choice(_LANGS[lang][plural]).partition("|")[0]


_EN_ARTICLE = re.compile(r"\b([Aa]) (?=[aeiouAEIOU])")


def _finish(lang: str, text: str, rng: random.Random) -> str:
    text = re.sub(r" {2,}", " ", text).strip()
    if lang == "en":
        text = _EN_ARTICLE.sub(lambda m: m.group(1) + "n ", text)
    if text and rng.random() < 0.9:  # some web alt-texts are not capitalised
        first = text[0]
        if lang == "tr" and first == "i":
            first = "İ"
        text = first.upper() + text[1:]
    return text


def make_caption(lang: str, category: str, rng: random.Random) -> str:
    """One alt-text in ``lang`` about ``category`` (product, travel, people, animal, food)."""
    data = _LANGS[lang]
    template = rng.choice(data["templates"][category])
    text = _PLACEHOLDER.sub(lambda m: _slot(lang, m.group(1), rng), template)
    if data.get("suffixes") and rng.random() < 0.1:
        text += rng.choice(data["suffixes"])
    return _finish(lang, text, rng)


def _make_url(lang: str, rng: random.Random, seen: set[str]) -> str:
    while True:
        local = _LOCAL_DOMAINS.get(lang)
        domain = rng.choice(local) if local and rng.random() < 0.6 else rng.choice(_GENERIC_DOMAINS)
        path = rng.choice(_PATHS).format(
            year=rng.randrange(2012, 2025), month=f"{rng.randrange(1, 13):02d}",
            h=f"{rng.randrange(16):x}", h2=f"{rng.randrange(16):x}")
        bits = rng.choice((48, 64, 64, 128))
        name = f"{rng.getrandbits(bits):0{bits // 4}x}"
        ext = _weighted(rng, [(e, float(w)) for e, w in _EXTENSIONS])
        url = f"https://{domain}/{path}/{name}.{ext}"
        r = rng.random()
        if r < 0.05:
            url += f"?w={rng.choice((400, 640, 800, 1200))}"
        elif r < 0.08:
            url += f"?v={rng.randrange(1_000_000_000, 1_700_000_000)}"
        if url not in seen:
            seen.add(url)
            return url


def _language_choices() -> list[tuple[str, float]]:
    return list(LANGUAGE_WEIGHTS.items())


def _bad_url(kind: str, rng: random.Random, seen: set[str]) -> str | None:
    good = _make_url("en", rng, seen)
    rest = good[len("https://"):]
    if kind == "null_url":
        return None
    if kind == "empty_url":
        return ""
    if kind == "javascript_url":
        return rng.choice(["javascript:void(0)", "javascript:void(0);",
                           f"javascript:openGallery({rng.randrange(1, 20)})",
                           "javascript:;"])
    if kind == "url_with_space":
        domain, _, path = rest.partition("/")
        head, _, tail = path.rpartition("/")
        stem, _, ext = tail.rpartition(".")
        name = rng.choice([f"my photo {rng.randrange(1, 99)}", f"{stem} (1)",
                           f"Screenshot {rng.randrange(1, 30)}", f"holiday pic {stem[:6]}"])
        return f"https://{domain}/{head}/{name}.{ext}"
    if kind == "url_no_scheme":
        domain, _, path = rest.partition("/")
        return rng.choice([f"www.{domain}/{path}", f"//{domain}/{path}", f"/{path}",
                           f"{domain}/{path}", f"images/{path.rpartition('/')[2]}"])
    raise ValueError(kind)


def _no_language_text(rng: random.Random) -> str:
    if rng.random() < 0.5:
        pattern = rng.choice(_FILE_NAME_PATTERNS)
        return pattern.format(n4=f"{rng.randrange(10_000):04d}", n5=f"{rng.randrange(100_000):05d}",
                              hex6=f"{rng.getrandbits(24):06x}")
    words = ["".join(rng.choice(_CONSONANTS) for _ in range(rng.randrange(5, 10)))
             for _ in range(rng.randrange(2, 5))]
    return " ".join(words)


def _bad_row(kind: str, rng: random.Random, seen: set[str],
             image_urls: list[str]) -> tuple[str | None, str | None, str | None]:
    """(url, text, source_lang) of one row with exactly one defect of ``kind``."""
    lang = _weighted(rng, _language_choices())
    category = _weighted(rng, list(CATEGORY_WEIGHTS.items()))

    def url_for_text_defect() -> str:
        # half of the text defects sit on an image that also has good alt-texts
        if image_urls and rng.random() < 0.5:
            return rng.choice(image_urls)
        return _make_url(lang, rng, seen)

    if kind == "null_text":
        return url_for_text_defect(), None, None
    if kind == "empty_text":
        return url_for_text_defect(), "", NO_LANGUAGE
    if kind == "whitespace_text":
        return url_for_text_defect(), rng.choice(_WHITESPACE_TEXTS), NO_LANGUAGE
    if kind == "too_long":
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) <= TOO_LONG_CHARS:  # keyword-stuffed SEO alt-text
            parts.append(make_caption(lang, category, rng))
        return _make_url(lang, rng, seen), " ".join(parts), lang
    if kind in ("null_url", "empty_url", "javascript_url", "url_with_space", "url_no_scheme"):
        return _bad_url(kind, rng, seen), make_caption(lang, category, rng), lang
    if kind == "replacement_char":
        mlang, text = rng.choice(_MOJIBAKE_CAPTIONS)
        return _make_url(mlang, rng, seen), text, mlang
    if kind == "no_language":
        return _make_url(lang, rng, seen), _no_language_text(rng), NO_LANGUAGE
    if kind == "foreign_language":
        flang = rng.choice(sorted(_FOREIGN_CAPTIONS))
        return _make_url("en", rng, seen), rng.choice(_FOREIGN_CAPTIONS[flang]), flang
    raise ValueError(kind)


def bad_rows_per_kind(n_images: int) -> int:
    """How many rows of each bad kind ``generate_alt_texts(n_images)`` inserts."""
    return max(1, round(n_images / IMAGES_PER_BAD_ROW)) if n_images > 0 else 0


def generate_alt_texts(n_images: int = DEFAULT_N_IMAGES, seed: int = DEFAULT_SEED) -> pa.Table:
    """A deterministic multilingual alt-text table (columns url, text, source_lang).

    ``n_images`` good images (about 13 % with 2--3 texts), plus ``bad_rows_per_kind(n_images)``
    rows of every kind in ``BAD_ROW_KINDS``, in a seeded shuffled order.
    """
    rng = random.Random(seed)
    langs = _language_choices()
    others = [(lang, w) for lang, w in langs if lang != "en"]
    seen: set[str] = set()
    rows: list[tuple[str | None, str | None, str | None]] = []
    image_urls: list[str] = []
    for _ in range(max(0, n_images)):
        lang = _weighted(rng, langs)
        category = _weighted(rng, list(CATEGORY_WEIGHTS.items()))
        url = _make_url(lang, rng, seen)
        image_urls.append(url)
        rows.append((url, make_caption(lang, category, rng), lang))
        if rng.random() < MULTI_TEXT_IMAGE_FRACTION:
            n_extra = 2 if rng.random() < THREE_TEXTS_FRACTION else 1
            texts = {rows[-1][1]}
            for _ in range(n_extra):
                if rng.random() < SAME_LANGUAGE_EXTRA:
                    extra_lang = lang
                elif lang != "en" and rng.random() < 0.7:
                    extra_lang = "en"
                else:
                    extra_lang = _weighted(rng, others if lang == "en" else langs)
                for _attempt in range(5):  # a different caption, not a repeat of this image's
                    text = make_caption(extra_lang, category, rng)
                    if text not in texts:
                        break
                texts.add(text)
                rows.append((url, text, extra_lang))
    rng.shuffle(rows)
    per_kind = bad_rows_per_kind(n_images)
    for kind in BAD_ROW_KINDS:
        for _ in range(per_kind):
            row = _bad_row(kind, rng, seen, image_urls)
            rows.insert(rng.randrange(len(rows) + 1), row)
    return pa.Table.from_pydict(
        {"url": [r[0] for r in rows], "text": [r[1] for r in rows],
         "source_lang": [r[2] for r in rows]},
        schema=SCHEMA)


def row_kind(url: str | None, text: str | None, source_lang: str | None) -> str:
    """Which ``BAD_ROW_KINDS`` entry a generated row is, or ``"good"`` (diagnostics, tests)."""
    if text is None:
        return "null_text"
    if text == "":
        return "empty_text"
    if not text.strip():
        return "whitespace_text"
    if len(text) > TOO_LONG_CHARS:
        return "too_long"
    if url is None:
        return "null_url"
    if url == "":
        return "empty_url"
    if url.lower().startswith("javascript:"):
        return "javascript_url"
    if any(c.isspace() for c in url):
        return "url_with_space"
    if not url.startswith(("http://", "https://")):
        return "url_no_scheme"
    if "\ufffd" in text:
        return "replacement_char"
    if source_lang == NO_LANGUAGE:
        return "no_language"
    if source_lang not in LANGUAGE_WEIGHTS:
        return "foreign_language"
    return GOOD


# ---------------------------------------------------------------------------------------------
# The committed default file
# ---------------------------------------------------------------------------------------------

def default_alt_texts_path() -> str:
    """The embedded default alt-text sample shipped inside the package."""
    return str(resources.files("curation") / "data" / DEFAULT_ALT_TEXTS_FILE)


def alt_texts_jsonl_bytes(table: pa.Table) -> bytes:
    """Gzip JSON Lines bytes of ``table`` (keys url, text, source_lang; mtime 0: reproducible)."""
    lines = []
    for url, text, lang in zip(table.column("url").to_pylist(), table.column("text").to_pylist(),
                               table.column("source_lang").to_pylist(), strict=True):
        lines.append(json.dumps({"url": url, "text": text, "source_lang": lang},
                                ensure_ascii=False, separators=(",", ":")))
    payload = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(payload)
    return buffer.getvalue()


def read_alt_texts_jsonl(path: str | None = None) -> pa.Table:
    """Read a (gzip) JSON Lines alt-text file; default: the embedded sample."""
    path = path or default_alt_texts_path()
    opener = gzip.open if path.endswith(".gz") else open
    columns: dict[str, list] = {"url": [], "text": [], "source_lang": []}
    with opener(path, "rt", encoding="utf-8", newline="\n") as f:
        for line in f:
            if not line.strip():
                continue
            obj = json.loads(line)
            for key, values in columns.items():
                values.append(obj.get(key))
    return pa.Table.from_pydict(columns, schema=SCHEMA)


def write_default_alt_texts(path: str | None = None) -> str:
    """Write ``generate_alt_texts()`` (defaults) as gzip JSON Lines; returns the path."""
    path = path or default_alt_texts_path()
    data = alt_texts_jsonl_bytes(generate_alt_texts())
    with open(path, "wb") as f:
        f.write(data)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Regenerate the embedded default alt-text sample.")
    parser.add_argument("--output", default=None, help="default: the packaged file")
    args = parser.parse_args(argv)
    path = write_default_alt_texts(args.output)
    table = read_alt_texts_jsonl(path)
    print(f"wrote {path}: {table.num_rows} rows")


if __name__ == "__main__":
    main()
