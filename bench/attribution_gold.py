"""Hand-labelled attribution gold: readable spec here, offsets in ``fixtures/*.jsonl``.

Usage (from the repository root)::

    .venv/bin/python bench/attribution_gold.py          # check the committed files
    .venv/bin/python bench/attribution_gold.py --write  # rewrite them from the spec

The documents below were written for this evaluation set in wire-service style (they are
fiction, not quotations of real reports); ``DEMO`` labels the shipped demo document. Each
triple names its spans by their text (the n-th occurrence when the text repeats); the
builder finds the offsets, checks that every span text is unique or disambiguated, and
stores ``{"start", "end", "text"}`` per span so tests can check ``text[start:end]``.

Labelling conventions (shared by the suggester's output):

* one triple per cue, stored under the sentence that holds the cue;
* cue: the reporting verb or phrase without auxiliaries or ``that`` ("said",
  "According to", "told");
* source: the speaker's whole noun phrase with titles and appositions; a pronoun source
  ("He added") is replaced by the nearest earlier mention that names the speaker;
* content: what is reported, without the complementiser ``that``, without the
  quotation marks when it is exactly one quotation, and without trailing ``, . ; :``;
  a quotation that opens in an earlier sentence starts there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labeling.text.segmentation import split_sentences  # noqa: E402

GOLD_FILE = ROOT / "fixtures" / "attribution_gold.jsonl"
DEMO_GOLD_FILE = ROOT / "fixtures" / "demo_attribution_gold.jsonl"
DEMO_TEXT_FILE = ROOT / "fixtures" / "000_54c65cebe7473141.txt"

# A span is its text, or (text, n) for the n-th occurrence (0-based) in the document.
SpanSpec = str | tuple[str, int]
Triple = tuple[SpanSpec, SpanSpec, SpanSpec]  # source, cue, content

E_ACUTE = "e\u0301"  # e + COMBINING ACUTE ACCENT (two code points)
A_CIRC = "a\u0302"  # a + COMBINING CIRCUMFLEX ACCENT
A_TILDE = "a\u0303"  # a + COMBINING TILDE

DOCUMENTS: list[dict[str, Any]] = [
    {
        "id": "eurostat-inflation",
        "text": (
            "Inflation in the euro zone eased to 2.4% in March, the statistics office "
            "Eurostat said on Tuesday. “Price pressures are fading faster than we expected,” "
            f"said Isabel Ferreira, chief economist at Banco Atl{A_CIRC}ntico in Lisbon. She "
            "added that the European Central Bank could cut rates as early as June. Markets "
            "were little changed after the release."
        ),
        "triples": [
            (
                "the statistics office Eurostat",
                ("said", 0),
                "Inflation in the euro zone eased to 2.4% in March",
            ),
            (
                f"Isabel Ferreira, chief economist at Banco Atl{A_CIRC}ntico in Lisbon",
                ("said", 1),
                "Price pressures are fading faster than we expected",
            ),
            (
                f"Isabel Ferreira, chief economist at Banco Atl{A_CIRC}ntico in Lisbon",
                "added",
                "the European Central Bank could cut rates as early as June",
            ),
        ],
    },
    {
        "id": "kharkiv-drone",
        "text": (
            "According to police in Kharkiv, three people were injured when a drone struck an "
            "apartment block overnight. Regional governor Oleh Syniehubov wrote on Telegram "
            "that rescue crews were still searching the rubble 🇺🇦. The strike came hours "
            "after talks in Istanbul ended without agreement."
        ),
        "triples": [
            (
                "police in Kharkiv",
                "According to",
                "three people were injured when a drone struck an apartment block overnight",
            ),
            (
                "Regional governor Oleh Syniehubov",
                "wrote",
                "rescue crews were still searching the rubble 🇺🇦",
            ),
        ],
    },
    {
        "id": "kaito-robotics",
        "text": (
            "Shares of Kaito Robotics (海斗ロボティクス) jumped 12% in Tokyo after the company "
            "raised its annual forecast. Chief executive Haruto Mori told analysts that demand "
            "from carmakers had “surprised everyone 👩‍💻 on the team.” Rival firms declined "
            "to comment. The company gave no timetable for new factories."
        ),
        "triples": [
            (
                "Chief executive Haruto Mori",
                "told",
                "demand from carmakers had “surprised everyone 👩‍💻 on the team.”",
            ),
        ],
    },
    {
        "id": "vigo-coast-guard",
        "text": (
            "“We have lost contact with two vessels. The crews are experienced and we remain "
            "hopeful,” the coast guard said in a statement on Sunday. It said a search "
            "covering 300 square kilometres would resume at dawn. Fishermen in the port of "
            "Vigo said they had seen no sign of the boats."
        ),
        "triples": [
            (
                "the coast guard",
                ("said", 0),
                "We have lost contact with two vessels. The crews are experienced and we "
                "remain hopeful",
            ),
            (
                "the coast guard",
                ("said", 1),
                "a search covering 300 square kilometres would resume at dawn",
            ),
            ("Fishermen in the port of Vigo", ("said", 2), "they had seen no sign of the boats"),
        ],
    },
    {
        "id": "lyon-strike",
        "text": (
            f"French Prime Minister {E_ACUTE.upper()}lise Garnier said the pension reform was "
            "« non négociable » despite a fourth day of strikes. Union leaders accused the "
            "government of ignoring millions of workers. « Nous irons jusqu’au bout », said "
            "Marc Dubois, head of the CGT federation in Lyon. Turnout at Thursday’s marches "
            "was lower than last week, police said."
        ),
        "triples": [
            (
                f"French Prime Minister {E_ACUTE.upper()}lise Garnier",
                ("said", 0),
                "the pension reform was « non négociable » despite a fourth day of strikes",
            ),
            ("Union leaders", "accused", "the government of ignoring millions of workers"),
            (
                "Marc Dubois, head of the CGT federation in Lyon",
                ("said", 1),
                "Nous irons jusqu’au bout",
            ),
            ("police", ("said", 2), "Turnout at Thursday’s marches was lower than last week"),
        ],
    },
    {
        "id": "berlin-floods",
        "text": (
            "German Chancellor Friedrich Brandt promised new aid for flood-hit regions on "
            "Wednesday. „Wir lassen niemanden allein“, Brandt told lawmakers in Berlin. The "
            "opposition said the package came too late. Damage is estimated at €4.2 billion."
        ),
        "triples": [
            (("Brandt", 1), "told", "Wir lassen niemanden allein"),
            ("The opposition", "said", "the package came too late"),
        ],
    },
    {
        "id": "lagos-football",
        "text": (
            "Defender Amara Okafor scored twice as Lagos City beat Accra United 3-1 on "
            "Saturday. “What a night! 🔥⚽” she posted on Instagram after the match. Coach "
            "Pierre Lemaire praised her composure but warned that the squad was still short "
            "of fitness. The win lifts Lagos City to second in the table."
        ),
        "triples": [
            ("Defender Amara Okafor", "posted", "What a night! 🔥⚽"),
            ("Coach Pierre Lemaire", "warned", "the squad was still short of fitness"),
        ],
    },
    {
        "id": "who-cholera",
        "text": (
            "The World Health Organization on Monday declared the cholera outbreak in the "
            "region over. In a statement, the agency noted that no new cases had been "
            "recorded for six weeks. Health workers remain on alert, officials said, because "
            "the rainy season begins in May."
        ),
        "triples": [
            (
                "The World Health Organization",
                "declared",
                "the cholera outbreak in the region over",
            ),
            ("the agency", "noted", "no new cases had been recorded for six weeks"),
            ("officials", "said", "Health workers remain on alert"),
        ],
    },
    {
        "id": "shenzhen-court",
        "text": (
            "A court in Shenzhen sentenced former banker Li Wei (李伟) to 12 years in prison "
            "for bribery, state media reported. Li denied the charges during the trial. His "
            "lawyer, Zhang Min, told Reuters the verdict would be appealed. The bank declined "
            "to comment."
        ),
        "triples": [
            (
                "state media",
                "reported",
                "A court in Shenzhen sentenced former banker Li Wei (李伟) to 12 years in "
                "prison for bribery",
            ),
            (("Li", 1), "denied", "the charges"),
            ("His lawyer, Zhang Min", "told", "the verdict would be appealed"),
        ],
    },
    {
        "id": "northwind-jobs",
        "text": (
            "Northwind Airlines plans to cut 1,200 jobs, according to a person familiar with "
            "the matter. The carrier says it needs to save $300 million a year. A spokesperson "
            "declined to confirm the figure. Pilots’ union president Dana Kowalski called the "
            "plan “reckless” and urged members to prepare for action."
        ),
        "triples": [
            (
                "a person familiar with the matter",
                "according to",
                "Northwind Airlines plans to cut 1,200 jobs",
            ),
            ("The carrier", "says", "it needs to save $300 million a year"),
            ("Pilots’ union president Dana Kowalski", "called", "the plan “reckless”"),
            ("Pilots’ union president Dana Kowalski", "urged", "members to prepare for action"),
        ],
    },
    {
        "id": "india-budget",
        "text": (
            "Finance Minister Rahul Mehta told parliament on Thursday that the deficit would "
            "narrow to 4.5% of GDP. Opposition lawmakers said the target was unrealistic. "
            "“The numbers simply do not add up,” said Priya Nair of the Congress party, who "
            "called for an independent audit."
        ),
        "triples": [
            (
                "Finance Minister Rahul Mehta",
                "told",
                "the deficit would narrow to 4.5% of GDP",
            ),
            ("Opposition lawmakers", ("said", 0), "the target was unrealistic"),
            (
                "Priya Nair of the Congress party",
                ("said", 1),
                "The numbers simply do not add up",
            ),
        ],
    },
    {
        "id": "hokkaido-snow",
        "text": (
            "Heavy snow closed schools across northern Japan on Tuesday ❄️. Trains between "
            "Sapporo and Asahikawa were suspended for most of the day. The storm is expected "
            "to move out to sea by Thursday."
        ),
        "triples": [],
    },
    {
        "id": "voltaro-recall",
        "text": (
            "Tesla-rival Voltaro recalled 48,000 cars over a faulty brake sensor.\n"
            '"No injuries have been reported," the company said in a filing with regulators.\n'
            "Owners will be notified by mail starting next month, it said."
        ),
        "triples": [
            ("the company", ("said", 0), "No injuries have been reported"),
            ("the company", ("said", 1), "Owners will be notified by mail starting next month"),
        ],
    },
    {
        "id": "segou-drought",
        "text": (
            "“This is the worst drought in forty years. Our wells are dry. We need help now,” "
            f"said Fatima Diallo, mayor of the village of S{E_ACUTE}gou. The government has "
            "promised emergency water deliveries."
        ),
        "triples": [
            (
                f"Fatima Diallo, mayor of the village of S{E_ACUTE}gou",
                "said",
                "This is the worst drought in forty years. Our wells are dry. We need help now",
            ),
        ],
    },
    {
        "id": "iea-oil",
        "text": (
            "The head of the International Energy Agency warned on Wednesday: “Oil markets "
            "are entering a period of extreme volatility.” Brent crude rose 3% after the "
            "remarks. Analysts at Goldman Sachs said prices could top $100 a barrel by the "
            "summer."
        ),
        "triples": [
            (
                "The head of the International Energy Agency",
                "warned",
                "Oil markets are entering a period of extreme volatility",
            ),
            ("Analysts at Goldman Sachs", "said", "prices could top $100 a barrel by the summer"),
        ],
    },
    {
        "id": "madrid-masks",
        "text": (
            "Spain’s health ministry announced on Friday that the country would lift its last "
            "pandemic restrictions. Minister Carmen Ruiz confirmed the decision at a news "
            "conference in Madrid. She said masks would no longer be required in hospitals 😷."
        ),
        "triples": [
            (
                "Spain’s health ministry",
                "announced",
                "the country would lift its last pandemic restrictions",
            ),
            ("Minister Carmen Ruiz", "confirmed", "the decision"),
            (
                "Minister Carmen Ruiz",
                "said",
                "masks would no longer be required in hospitals 😷",
            ),
        ],
    },
    {
        "id": "drones-overnight",
        "text": (
            "Ukraine’s air defences shot down 17 of 20 drones launched overnight, the air "
            "force said. Russia’s defence ministry said its forces had destroyed a weapons "
            "depot near Dnipro. Neither claim could be independently verified."
        ),
        "triples": [
            (
                "the air force",
                ("said", 0),
                "Ukraine’s air defences shot down 17 of 20 drones launched overnight",
            ),
            (
                "Russia’s defence ministry",
                ("said", 1),
                "its forces had destroyed a weapons depot near Dnipro",
            ),
        ],
    },
    {
        "id": "manchester-taxes",
        "text": (
            "Labour leader Tom Hughes set out his spending plans on Monday. “We are not going "
            "to raise taxes,” he said, “but we will close loopholes.” The remark drew applause "
            "from party members in Manchester."
        ),
        "triples": [
            ("Labour leader Tom Hughes", "said", "We are not going to raise taxes"),
        ],
    },
    {
        "id": "oslo-protest",
        "text": (
            "Climate activist Greta Lindqvist was detained by police during a protest outside "
            "parliament in Oslo. “They can arrest us, but they cannot arrest the science,” "
            "she told reporters before being led away. Police said 34 people were detained."
        ),
        "triples": [
            (
                "Climate activist Greta Lindqvist",
                "told",
                "They can arrest us, but they cannot arrest the science",
            ),
            ("Police", "said", "34 people were detained"),
        ],
    },
    {
        "id": "izium-claims",
        "text": (
            "The Kremlin denied that Russian forces had targeted civilians in the town of "
            "Izium. Kyiv claimed that more than 400 bodies had been found in a mass grave "
            "there. UN investigators said they would visit the site next week."
        ),
        "triples": [
            (
                "The Kremlin",
                "denied",
                "Russian forces had targeted civilians in the town of Izium",
            ),
            ("Kyiv", "claimed", "more than 400 bodies had been found in a mass grave there"),
            ("UN investigators", "said", "they would visit the site next week"),
        ],
    },
    {
        "id": "seoul-summit",
        "text": (
            "Japanese Prime Minister Kenji Sato described the summit as 「実り多い」, or "
            "fruitful. Officials in Seoul said the two sides agreed to resume regular talks."
        ),
        "triples": [
            (
                "Japanese Prime Minister Kenji Sato",
                "described",
                "the summit as 「実り多い」, or fruitful",
            ),
            ("Officials in Seoul", "said", "the two sides agreed to resume regular talks"),
        ],
    },
]

# Written after the rules of ``labeling.suggesting`` were fixed on ``DOCUMENTS`` (the
# development set), to estimate how the suggester does on sentences it was not tuned on.
# Its first run gave triple P/R/F1 0.917/0.759/0.830 (exact) and 0.958/0.793/0.868
# (overlap). Its misses then led to four general fixes (abbreviations such as "Col." and
# "U.S." inside a source, "…, saying" after the subject's clause, "rejected", "ruled
# that"), so it is no longer unseen: later figures on it are optimistic too.
HELDOUT: list[dict[str, Any]] = [
    {
        "id": "corvel-smelter",
        "text": (
            "Mining giant Corvel said on Wednesday it would close its copper smelter in "
            "Antofagasta, putting 900 jobs at risk. The decision was “painful but "
            "unavoidable,” chief executive Laura Benítez said in a statement. Chile’s mining "
            "minister told local radio that the government would seek talks with the company. "
            "Shares in Corvel fell 4%."
        ),
        "triples": [
            (
                "Mining giant Corvel",
                ("said", 0),
                "it would close its copper smelter in Antofagasta, putting 900 jobs at risk",
            ),
            (
                "chief executive Laura Benítez",
                ("said", 1),
                "The decision was “painful but unavoidable,”",
            ),
            (
                "Chile’s mining minister",
                "told",
                "the government would seek talks with the company",
            ),
        ],
    },
    {
        "id": "accra-election",
        "text": (
            "Opposition candidate Samuel Mensah was quoted as saying that the results had been "
            "“manipulated from the start”. The electoral commission rejected the accusation. "
            "“Every ballot was counted in public,” commission chairwoman Jean Adjei told a news "
            "conference in Accra. “Observers from the African Union were present at every "
            "stage.”"
        ),
        "triples": [
            (
                "Opposition candidate Samuel Mensah",
                "quoted as saying",
                "the results had been “manipulated from the start”",
            ),
            ("The electoral commission", "rejected", "the accusation"),
            (
                "commission chairwoman Jean Adjei",
                "told",
                "Every ballot was counted in public",
            ),
        ],
    },
    {
        "id": "chirp-fine",
        "text": (
            "Regulators in Brussels fined social network Chirp €310 million for breaching EU "
            "data rules. The company “strongly disagrees” with the decision and will appeal, a "
            "spokesperson said. Chirp’s users posted more than 2 million messages tagged "
            "#FreeChirp 🐦 within hours. Consumer group BEUC welcomed the fine, saying it sent "
            "“a clear signal to Big Tech”."
        ),
        "triples": [
            (
                "a spokesperson",
                "said",
                "The company “strongly disagrees” with the decision and will appeal",
            ),
            ("Consumer group BEUC", "saying", "it sent “a clear signal to Big Tech”"),
        ],
    },
    {
        "id": "hualien-quake",
        "text": (
            "A magnitude 6.8 earthquake struck off the coast of Hualien, Taiwan’s Central "
            "Weather Administration said. There were no immediate reports of casualties. "
            "Residents in Taipei said buildings swayed for nearly a minute. “I grabbed my cat "
            "🐈 and ran outside,” said Chen Yi-ting (陳怡婷), a 34-year-old teacher."
        ),
        "triples": [
            (
                "Taiwan’s Central Weather Administration",
                ("said", 0),
                "A magnitude 6.8 earthquake struck off the coast of Hualien",
            ),
            ("Residents in Taipei", ("said", 1), "buildings swayed for nearly a minute"),
            (
                "Chen Yi-ting (陳怡婷), a 34-year-old teacher",
                ("said", 2),
                "I grabbed my cat 🐈 and ran outside",
            ),
        ],
    },
    {
        "id": "fed-minutes",
        "text": (
            "Several policymakers argued that interest rates should stay higher for longer, "
            "according to minutes of the Federal Reserve’s June meeting. Fed Chair Marcus Hale "
            "has said he expects inflation to return to 2% next year. Investors now see a 60% "
            "chance of a cut in September, according to CME data."
        ),
        "triples": [
            (
                "Several policymakers",
                "argued",
                "interest rates should stay higher for longer",
            ),
            (
                "minutes of the Federal Reserve’s June meeting",
                ("according to", 0),
                "Several policymakers argued that interest rates should stay higher for longer",
            ),
            ("Fed Chair Marcus Hale", "said", "he expects inflation to return to 2% next year"),
            (
                "CME data",
                ("according to", 1),
                "Investors now see a 60% chance of a cut in September",
            ),
        ],
    },
    {
        "id": "goma-airport",
        "text": (
            "Rebel fighters said they had taken control of the airport in Goma.\n"
            "The army denied the claim. “Our troops hold all key positions,” army spokesman "
            "Col. Jean-Pierre Kabila told Reuters by phone.\n"
            "“The situation is under control,” he added."
        ),
        "triples": [
            ("Rebel fighters", "said", "they had taken control of the airport in Goma"),
            ("The army", "denied", "the claim"),
            (
                "army spokesman Col. Jean-Pierre Kabila",
                "told",
                "Our troops hold all key positions",
            ),
            ("army spokesman Col. Jean-Pierre Kabila", "added", "The situation is under control"),
        ],
    },
    {
        "id": "helixa-vaccine",
        "text": (
            "Drugmaker Helixa said in a statement that its malaria vaccine had cut infections "
            "by 70% in a late-stage trial. The World Health Organization’s chief scientist "
            "called the results “very encouraging”. Independent experts cautioned that the "
            "trial was small. Helixa plans to seek approval in Ghana and Kenya next year."
        ),
        "triples": [
            (
                "Drugmaker Helixa",
                "said",
                "its malaria vaccine had cut infections by 70% in a late-stage trial",
            ),
            (
                "The World Health Organization’s chief scientist",
                "called",
                "the results “very encouraging”",
            ),
            ("Independent experts", "cautioned", "the trial was small"),
        ],
    },
    {
        "id": "brazil-squad",
        "text": (
            f"Brazil coach Jo{A_TILDE}o Silva named three uncapped players in his squad for the "
            "World Cup qualifiers. “They have earned this chance,” Silva told reporters in Rio "
            "de Janeiro. Asked about the absence of veteran striker Neymar, he said the door "
            "“is never closed”."
        ),
        "triples": [
            (("Silva", 1), "told", "They have earned this chance"),
            (("Silva", 1), "said", "the door “is never closed”"),
        ],
    },
    {
        "id": "yen-160",
        "text": (
            "The yen weakened past 160 per dollar for the first time since 1986. Exporters such "
            "as Toyota and Sony rose in early trade. Trading volumes were thin because of a "
            "public holiday in the United States."
        ),
        "triples": [],
    },
    {
        "id": "voting-map",
        "text": (
            "The Supreme Court ruled 6-3 that the state’s voting map was unconstitutional. "
            "Writing for the majority, Justice Ellen Park said the map had “diluted the votes "
            "of Black residents.” In a dissent, Justice Mark Doyle wrote that the court had "
            "overstepped its role."
        ),
        "triples": [
            ("The Supreme Court", "ruled", "the state’s voting map was unconstitutional"),
            (
                "Justice Ellen Park",
                "said",
                "the map had “diluted the votes of Black residents.”",
            ),
            ("Justice Mark Doyle", "wrote", "the court had overstepped its role"),
        ],
    },
    {
        "id": "seoul-tokyo-talks",
        "text": (
            "South Korea’s president Yoon Seo-jin wrote on X that talks with Tokyo were “a new "
            "beginning 🤝”. Officials in Pyongyang did not respond to requests for comment. "
            '"We will watch closely," a senior U.S. official said.'
        ),
        "triples": [
            (
                "South Korea’s president Yoon Seo-jin",
                "wrote",
                "talks with Tokyo were “a new beginning 🤝”",
            ),
            ("a senior U.S. official", "said", "We will watch closely"),
        ],
    },
]

DEMO_TRIPLES: list[Triple] = [
    (
        "Russian President Vladimir Putin",
        ("told", 0),
        "the Kiev regime is preventing the besieged Ukrainian forces at the Azovstal steel "
        "plant in Mariupol from surrendering",
    ),
    (
        "The Kremlin press service",
        ("said", 0),
        "Putin held a “protracted” telephone conversation with Michel on Friday, during "
        "which the Russian president noted that he ordered the assault on the industrial "
        "zone of the Azovstal plant cancelled for humanitarian reasons",
    ),
    (
        ("the Russian president", 0),
        ("noted", 0),
        "he ordered the assault on the industrial zone of the Azovstal plant cancelled for "
        "humanitarian reasons",
    ),
    (
        "the Kremlin press service",
        "emphasised",
        "All servicemen of the Armed Forces of Ukraine, as well as militants of the national "
        "battalions and foreign mercenaries, who lay down their arms, are guaranteed life, "
        "decent treatment in accordance with international law and provision of qualified "
        "medical care. But the Kiev regime does not allow this opportunity to be seized",
    ),
    (
        "the press service",
        "according to",
        "During his conversation with Michel, the Russian president “spoke about the "
        "measures related to protection of civilian population, the daily opening of "
        "humanitarian corridors and the announcement of ceasefires to provide a safe "
        "evacuation of civilians from the combat zone”",
    ),
    (
        "the press service",
        ("added", 0),
        "Putin also “had drawn attention to the irresponsible statements by EU "
        "representatives about the need to resolve the situation in Ukraine by military "
        "means, as well as to the bloc ignoring the numerous war crimes commit by the "
        "Ukrainian security forces”",
    ),
    (
        "The Russian president",
        ("noted", 1),
        "Brussels could influence the Kiev authorities in order to force them to stop "
        "conducting massive shelling of Donbass settlements and other gross violations of "
        "international humanitarian law",
    ),
    (
        ("Russian MoD", 0),
        (":", 0),
        "Moscow Ready to Announce Ceasefire at Any Time to Evacuate Civilians From Azovstal",
    ),
    (
        "the Russian Ministry of Defence (MoD)",
        "indicated",
        "its readiness to announce a ceasefire at any moment to evacuate possible civilians "
        "from the Azovstal steel plant in Mariupol",
    ),
    (
        "Mikhail Mizintsev, the head of the Russian MoD’s national defence control centre",
        ("told", 1),
        "the start of the ceasefire around the Azovstal plant will be considered the moment "
        "the Ukrainian military, at present under siege in the factory, hoists the white flag",
    ),
    (
        ("Mizintsev", 1),
        ("said", 1),
        "The actual beginning of the humanitarian pause will be when the white flag is "
        "raised by the Ukrainian armed formations around the entire perimeter or in certain "
        "directions of Azovstal. If such signs are found in any of the directions of the "
        "Azovstal metallurgical plant, the Russian armed forces and those of the Donetsk "
        "People's Republic will immediately stop any hostilities and provide safe access to "
        "the gathering places of humanitarian convoys",
    ),
    (
        ("Mizintsev", 1),
        ("added", 1),
        "since the beginning of hostilities, 1,844 Ukrainian soldiers have surrendered in "
        "Mariupol, and more than 143,000 civilians, including 341 foreigners, have been "
        "evacuated from the city",
    ),
    (
        "The head of the Russian MoD’s national defence control centre",
        ("said", 2),
        "all of them are safe and sound, and that they are receiving “qualified medical care "
        "provided” where necessary",
    ),
    (
        "Russian Defence Minister Sergei Shoigu",
        ("said", 3),
        "Mariupol has been liberated from Ukrainian forces, and that order can now be "
        "restored in the Ukrainian city",
    ),
    (
        ("Shoigu", 1),
        ("noted", 2),
        "remaining Ukrainian forces are still besieged at the Azovstal steel plant",
    ),
    (
        "the Russian Defence Minister",
        ("said", 4),
        "During the liberation of the city, more than 4,000 [militants] were eliminated, "
        "1,478 surrendered. Of the remaining group, more than 2,000 were blockaded in the "
        "industrial zone of the Azovstal plant",
    ),
    (
        ("President Putin", 0),
        "stressed",
        "storming the Azovstal plant and entering its catacombs was unwise",
    ),
    (
        ("President Putin", 0),
        "suggested",
        "Russian forces should organise an air-tight blockade of the industrial zone instead",
    ),
    (
        "the Russian Defence Ministry",
        "According to",
        "the operation only targets Ukraine’s military infrastructure and civilians are not "
        "in danger",
    ),
]


def _find(text: str, spec: SpanSpec) -> dict[str, Any]:
    needle, nth = (spec, None) if isinstance(spec, str) else spec
    hits = []
    at = text.find(needle)
    while at != -1:
        hits.append(at)
        at = text.find(needle, at + 1)
    if not hits:
        raise ValueError(f"span text not in document: {needle!r}")
    if nth is None and len(hits) > 1:
        raise ValueError(f"span text occurs {len(hits)} times, give its index: {needle!r}")
    start = hits[nth or 0]
    return {"start": start, "end": start + len(needle), "text": needle}


def build(doc_id: str, text: str, triples: list[Triple], split: str) -> dict[str, Any]:
    """One gold record: the text, its sentences, and each sentence's triples."""
    sentences = [{"start": s, "end": e, "attributions": []} for s, e in split_sentences(text)]
    for source, cue, content in triples:
        triple = {"source": _find(text, source), "cue": _find(text, cue)}
        triple["content"] = _find(text, content)
        holder = [
            s for s in sentences if s["start"] <= triple["cue"]["start"] < s["end"]
        ]  # the cue lies in exactly one sentence
        holder[0]["attributions"].append(triple)
    return {"id": doc_id, "split": split, "text": text, "sentences": sentences}


def records() -> list[dict[str, Any]]:
    """The evaluation set, built from the spec."""
    return [
        build(d["id"], d["text"], d["triples"], split)
        for split, docs in (("dev", DOCUMENTS), ("heldout", HELDOUT))
        for d in docs
    ]


def demo_records() -> list[dict[str, Any]]:
    """The demo document's gold, built from the spec."""
    text = DEMO_TEXT_FILE.read_text(encoding="utf-8")
    return [build(DEMO_TEXT_FILE.stem, text, DEMO_TRIPLES, "demo")]


def load(path: Path) -> list[dict[str, Any]]:
    """Records of a committed gold file."""
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _dump(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the fixture files")
    args = parser.parse_args()
    pairs = [(GOLD_FILE, records()), (DEMO_GOLD_FILE, demo_records())]
    for path, rows in pairs:
        n_sent = sum(len(r["sentences"]) for r in rows)
        n_trip = sum(len(s["attributions"]) for r in rows for s in r["sentences"])
        if args.write:
            _dump(path, rows)
            print(
                f"wrote {path.relative_to(ROOT)}: {len(rows)} documents, {n_sent} sentences, "
                f"{n_trip} triples"
            )
        elif load(path) != rows:
            print(f"{path.relative_to(ROOT)} differs from the spec: run with --write")
            return 1
        else:
            print(f"{path.relative_to(ROOT)}: up to date ({n_sent} sentences, {n_trip} triples)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
