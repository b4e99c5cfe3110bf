"""Reference rows every ContraVento database holds: achievements, cycling types, countries."""

from __future__ import annotations

from typing import Final

# (code, name, description, badge_icon, requirement_type, requirement_value)
ACHIEVEMENTS: Final = (
    ("FIRST_TRIP", "First Trip", "Published your first trip", "🚲", "trips", 1),
    ("CENTURY", "Century", "Rode 100 km in total", "💯", "distance", 100),
    ("VOYAGER", "Voyager", "Rode 1,000 km in total", "🧭", "distance", 1000),
    ("EXPLORER", "Explorer", "Cycled in 5 countries", "🗺️", "countries", 5),
    ("PHOTOGRAPHER", "Photographer", "Shared 50 photos", "📷", "photos", 50),
    ("GLOBETROTTER", "Globetrotter", "Cycled in 10 countries", "🌍", "countries", 10),
    ("MARATHONER", "Marathoner", "Rode 5,000 km in total", "🏅", "distance", 5000),
    ("INFLUENCER", "Influencer", "Reached 100 followers", "⭐", "followers", 100),
    ("PROLIFIC", "Prolific", "Published 25 trips", "📚", "trips", 25),
)

# (code, display_name, description)
CYCLING_TYPES: Final = (
    ("bikepacking", "Bikepacking", "Multi-day self-supported rides with light gear"),
    ("commuting", "Commuting", "Everyday rides to work or school"),
    ("gravel", "Gravel", "Mixed-surface riding on unpaved roads"),
    ("mountain", "Mountain", "Off-road trails and mountain terrain"),
    ("road", "Road", "Paved-road cycling"),
    ("touring", "Touring", "Long-distance travel by bicycle"),
)

COUNTRY_NAMES: Final = {
    "AD": "Andorra",
    "AR": "Argentina",
    "AT": "Austria",
    "AU": "Australia",
    "BE": "Belgium",
    "BG": "Bulgaria",
    "BR": "Brazil",
    "CA": "Canada",
    "CH": "Switzerland",
    "CL": "Chile",
    "CN": "China",
    "CO": "Colombia",
    "CR": "Costa Rica",
    "CZ": "Czechia",
    "DE": "Germany",
    "DK": "Denmark",
    "EC": "Ecuador",
    "EE": "Estonia",
    "ES": "Spain",
    "FI": "Finland",
    "FR": "France",
    "GB": "United Kingdom",
    "GR": "Greece",
    "HR": "Croatia",
    "HU": "Hungary",
    "IE": "Ireland",
    "IN": "India",
    "IS": "Iceland",
    "IT": "Italy",
    "JP": "Japan",
    "KR": "South Korea",
    "LT": "Lithuania",
    "LU": "Luxembourg",
    "LV": "Latvia",
    "MA": "Morocco",
    "ME": "Montenegro",
    "MX": "Mexico",
    "NL": "Netherlands",
    "NO": "Norway",
    "NZ": "New Zealand",
    "PE": "Peru",
    "PL": "Poland",
    "PT": "Portugal",
    "RO": "Romania",
    "RS": "Serbia",
    "SE": "Sweden",
    "SI": "Slovenia",
    "SK": "Slovakia",
    "TH": "Thailand",
    "TR": "Türkiye",
    "US": "United States",
    "UY": "Uruguay",
    "VN": "Viet Nam",
    "ZA": "South Africa",
}


def country_name(code: str) -> str:
    return COUNTRY_NAMES.get(code.upper(), code.upper())
