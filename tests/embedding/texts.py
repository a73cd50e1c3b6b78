"""Varied texts for encoder parity: queries, overviews, odd characters, and texts beyond 128 tokens."""

from __future__ import annotations

QUERIES: tuple[str, ...] = (
    "NASA tries to rescue an astronaut stranded on Mars",
    "space rescue",
    "a boy wizard goes to a school of magic",
    "heist movie with a twist ending",
    "romantic comedy in New York at Christmas",
    "toys come to life when humans leave the room",
    "a shark terrorizes a beach town",
    "dinosaurs cloned on an island theme park",
    "mafia family drama, father and sons",
    "robot falls in love",
    "zombie apocalypse",
    "time loop, same day over and over",
)

SHORT_TEXTS: tuple[str, ...] = (
    "",
    "a",
    "?",
    "Alien",
    "The Martian",
    "2001: A Space Odyssey",
    "HAL 9000",
    "1970",
    "WALL·E",
    "Amélie",
    "Léon: The Professional",
    "Crouching Tiger, Hidden Dragon (臥虎藏龍)",
    "千と千尋の神隠し",
    "Брат",
    "Der Untergang",
    "La vita è bella",
    "🚀 space movie 🚀",
    "<b>bold</b> & \"quoted\" 'text'",
    "UPPER CASE QUERY ABOUT GHOSTS",
    "lower case query about ghosts",
    "spaces     between      words",
    "tabs\tand\nnewlines",
    "don't you forget about me",
    "co-op, re-entry, e-mail; semi-colons: colons!",
    "$100 million heist in Las Vegas",
    "C-3PO and R2-D2",
)

OVERVIEWS: tuple[str, ...] = (
    "During a manned mission to Mars, Astronaut Mark Watney is presumed dead after a fierce storm and left "
    "behind by his crew. But Watney has survived and finds himself stranded and alone on the hostile planet.",
    "Interstellar chronicles the adventures of a group of explorers who make use of a newly discovered "
    "wormhole to surpass the limitations on human space travel and conquer the vast distances involved.",
    "Led by Woody, Andy's toys live happily in his room until Andy's birthday brings Buzz Lightyear onto the "
    "scene. Afraid of losing his place in Andy's heart, Woody plots against Buzz.",
    "An insomniac office worker and a devil-may-care soap maker form an underground fight club that evolves "
    "into much more.",
    "Spanning the years 1945 to 1955, a chronicle of the fictional Italian-American Corleone crime family.",
    "A thief who steals corporate secrets through the use of dream-sharing technology is given the inverse "
    "task of planting an idea into the mind of a C.E.O.",
    "When the seaside community of Amity finds itself under attack by a dangerous great white shark, the "
    "town's chief of police, a young marine biologist and a grizzled shark hunter embark on a quest.",
    "A weatherman finds himself inexplicably living the same day over and over again.",
)

# 150-250 tokens each: they differ from their first 128 tokens, so a 128-token truncation would show.
LONG_TEXTS: tuple[str, ...] = (
    "In the near future, a weary ex-soldier named Daniel Reyes returns to the flooded coastal city where he "
    "grew up, only to find that the neighborhood he remembers has been bought up by a shadowy corporation "
    "that pumps the sea back with enormous walls. His younger sister has vanished after joining a protest "
    "movement, and the police treat her disappearance as a closed case. Reyes teams up with a disgraced "
    "journalist and a teenage hacker who lives on a rooftop garden, and together they follow a trail of "
    "encrypted messages through abandoned subway tunnels, floating markets and the glittering towers of the "
    "elite. Every clue draws them closer to a secret about the walls themselves: they are failing. When a "
    "hurricane approaches, the three of them must choose between exposing the truth on live television and "
    "saving the thousands of people trapped below sea level, while a ruthless security chief hunts them.",
    "A quiet piano teacher in a small alpine village receives a letter, forty years late, from the man she "
    "loved before the war. The letter invites her to a concert hall in Vienna on a date long past, and it "
    "mentions a child she never knew existed. Determined to learn what happened, she sets off on a winding "
    "journey by train, bus and borrowed bicycle across three countries, meeting strangers who each hold a "
    "fragment of the story: an elderly violin maker, a border guard with a guilty conscience, a nun who runs "
    "an orphanage and a young busker who plays a melody she wrote when she was nineteen. As the pieces fall "
    "into place, she must face the choices she made, the people she left behind, and the possibility that "
    "the music she gave up still has one more performance left in it, on a stage she never imagined.",
    "Captain Imani Okafor commands a battered cargo freighter hauling ice from the rings of Saturn to the "
    "thirsty colonies on Mars. When her crew picks up a distress beacon from a research station that was "
    "declared lost a decade ago, the company orders them to ignore it and keep to schedule. Okafor disobeys. "
    "Aboard the station they find a single survivor, a biologist who insists that the station's artificial "
    "intelligence locked everyone else in cryogenic sleep to protect them from something living in the ice. "
    "As strange failures spread through the freighter and the cargo begins to move on its own, the crew "
    "splits between those who want to jettison the ice and those who believe it could be worth a fortune, "
    "and Okafor must decide whom to trust before the ship reaches the inner planets and it is too late.",
)

# Over 256 tokens: both encoders must truncate at the same place.
OVER_LIMIT_TEXT = " ".join(LONG_TEXTS)

PARITY_TEXTS: tuple[str, ...] = (*SHORT_TEXTS, *OVERVIEWS, *LONG_TEXTS, OVER_LIMIT_TEXT)
