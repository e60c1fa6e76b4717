"""Glyph metrics of Helvetica Bold, the font spine labels are set in: advance width, height and depth per character.

Units are thousandths of the font size (an em). The figures are Adobe's Helvetica-Bold AFM metrics for
the characters of WinAnsiEncoding, the encoding a PDF's standard Type 1 fonts are shown with, so a
character missing here cannot be printed by the PDF either. Liberation Sans Bold and Arial Bold have
the same advance widths, so a browser laying out the SVG with either takes the same room.

Copyright (c) 1985, 1987, 1989, 1990, 1997, 1998, 1999 Adobe Systems Incorporated. All Rights Reserved.
Helvetica is a trademark of Linotype-Hell AG and/or its subsidiaries. (The AFM files may be used, copied
and distributed for any purpose provided that the copyright notices are retained.)
"""

FONT_NAME = "Helvetica-Bold"
"""The PostScript name of the font: a standard Type 1 font every PDF reader has."""

FONT_FAMILIES = "Helvetica, Arial, Liberation Sans, Nimbus Sans, sans-serif"
"""The CSS font families of the SVG: Helvetica or a font with its advance widths where one is installed."""

UNITS_PER_EM = 1000
CAP_HEIGHT = 718
"""Height of the capital letters (and, within a few units, the digits)."""

#: Character -> (advance width, height above the baseline, depth below it).
GLYPHS: dict[str, tuple[int, int, int]] = {
    " ": (278, 0, 0),
    "!": (333, 718, 0),
    '"': (474, 718, 0),
    "#": (556, 698, 0),
    "$": (556, 775, 115),
    "%": (889, 710, 19),
    "&": (722, 718, 19),
    "'": (238, 718, 0),
    "(": (333, 734, 208),
    ")": (333, 734, 208),
    "*": (389, 718, 0),
    "+": (584, 506, 0),
    ",": (278, 146, 168),
    "-": (333, 345, 0),
    ".": (278, 146, 0),
    "/": (278, 737, 19),
    "0": (556, 710, 19),
    "1": (556, 710, 0),
    "2": (556, 710, 0),
    "3": (556, 710, 19),
    "4": (556, 710, 0),
    "5": (556, 698, 19),
    "6": (556, 710, 19),
    "7": (556, 698, 0),
    "8": (556, 710, 19),
    "9": (556, 710, 19),
    ":": (333, 512, 0),
    ";": (333, 512, 168),
    "<": (584, 514, 8),
    "=": (584, 419, 0),
    ">": (584, 514, 8),
    "?": (611, 727, 0),
    "@": (975, 737, 19),
    "A": (722, 718, 0),
    "B": (722, 718, 0),
    "C": (722, 737, 19),
    "D": (722, 718, 0),
    "E": (667, 718, 0),
    "F": (611, 718, 0),
    "G": (778, 737, 19),
    "H": (722, 718, 0),
    "I": (278, 718, 0),
    "J": (556, 718, 18),
    "K": (722, 718, 0),
    "L": (611, 718, 0),
    "M": (833, 718, 0),
    "N": (722, 718, 0),
    "O": (778, 737, 19),
    "P": (667, 718, 0),
    "Q": (778, 737, 52),
    "R": (722, 718, 0),
    "S": (667, 737, 19),
    "T": (611, 718, 0),
    "U": (722, 718, 19),
    "V": (667, 718, 0),
    "W": (944, 718, 0),
    "X": (667, 718, 0),
    "Y": (667, 718, 0),
    "Z": (611, 718, 0),
    "[": (333, 722, 196),
    "\\": (278, 737, 19),
    "]": (333, 722, 196),
    "^": (333, 750, 0),
    "_": (556, 0, 125),
    "`": (333, 750, 0),
    "a": (556, 546, 14),
    "b": (611, 718, 14),
    "c": (556, 546, 14),
    "d": (611, 718, 14),
    "e": (556, 546, 14),
    "f": (333, 727, 0),
    "g": (611, 546, 217),
    "h": (611, 718, 0),
    "i": (278, 725, 0),
    "j": (278, 725, 214),
    "k": (556, 718, 0),
    "l": (278, 718, 0),
    "m": (889, 546, 0),
    "n": (611, 546, 0),
    "o": (611, 546, 14),
    "p": (611, 546, 207),
    "q": (611, 546, 207),
    "r": (389, 546, 0),
    "s": (556, 546, 14),
    "t": (333, 676, 6),
    "u": (611, 532, 14),
    "v": (556, 532, 0),
    "w": (778, 532, 0),
    "x": (556, 532, 0),
    "y": (556, 532, 214),
    "z": (500, 532, 0),
    "{": (389, 722, 196),
    "|": (280, 775, 225),
    "}": (389, 722, 196),
    "~": (333, 737, 0),
    "\u20ac": (556, 710, 19),  # Euro
    "\u201a": (278, 127, 146),  # quotesinglbase
    "\u0192": (556, 737, 210),  # florin
    "\u201e": (500, 127, 146),  # quotedblbase
    "\u2026": (1000, 146, 0),  # ellipsis
    "\u2020": (556, 718, 171),  # dagger
    "\u2021": (556, 718, 171),  # daggerdbl
    "\u02c6": (333, 750, 0),  # circumflex
    "\u2030": (1000, 710, 19),  # perthousand
    "\u0160": (667, 936, 19),  # Scaron
    "\u2039": (333, 484, 0),  # guilsinglleft
    "\u0152": (1000, 737, 19),  # OE
    "\u017d": (611, 936, 0),  # Zcaron
    "\u2018": (278, 727, 0),  # quoteleft
    "\u2019": (278, 718, 0),  # quoteright
    "\u201c": (500, 727, 0),  # quotedblleft
    "\u201d": (500, 718, 0),  # quotedblright
    "\u2022": (350, 524, 0),  # bullet
    "\u2013": (556, 333, 0),  # endash
    "\u2014": (1000, 333, 0),  # emdash
    "\u02dc": (333, 737, 0),  # tilde
    "\u2122": (1000, 718, 0),  # trademark
    "\u0161": (556, 750, 14),  # scaron
    "\u203a": (333, 484, 0),  # guilsinglright
    "\u0153": (944, 546, 14),  # oe
    "\u017e": (500, 750, 0),  # zcaron
    "\u0178": (667, 915, 0),  # Ydieresis
    "\u00a0": (278, 0, 0),  # space
    "\u00a1": (333, 532, 186),  # exclamdown
    "\u00a2": (556, 628, 118),  # cent
    "\u00a3": (556, 718, 16),  # sterling
    "\u00a4": (556, 636, 0),  # currency
    "\u00a5": (556, 698, 0),  # yen
    "\u00a6": (280, 700, 150),  # brokenbar
    "\u00a7": (556, 727, 184),  # section
    "\u00a8": (333, 729, 0),  # dieresis
    "\u00a9": (737, 737, 19),  # copyright
    "\u00aa": (370, 737, 0),  # ordfeminine
    "\u00ab": (333, 484, 0),  # guilsinglleft
    "\u00ac": (584, 419, 0),  # logicalnot
    "\u00ad": (333, 345, 0),  # hyphen
    "\u00ae": (737, 737, 19),  # registered
    "\u00af": (333, 678, 0),  # macron
    "\u00b0": (400, 712, 0),  # degree
    "\u00b1": (584, 506, 0),  # plusminus
    "\u00b2": (333, 710, 0),  # twosuperior
    "\u00b3": (333, 710, 0),  # threesuperior
    "\u00b4": (333, 750, 0),  # acute
    "\u00b5": (611, 532, 207),  # mu
    "\u00b6": (556, 700, 191),  # paragraph
    "\u00b7": (278, 334, 0),  # periodcentered
    "\u00b8": (333, 0, 228),  # cedilla
    "\u00b9": (333, 710, 0),  # onesuperior
    "\u00ba": (365, 737, 0),  # ordmasculine
    "\u00bb": (333, 484, 0),  # guilsinglright
    "\u00bc": (834, 710, 19),  # onequarter
    "\u00bd": (834, 710, 19),  # onehalf
    "\u00be": (834, 710, 19),  # threequarters
    "\u00bf": (611, 532, 195),  # questiondown
    "\u00c0": (722, 936, 0),  # Agrave
    "\u00c1": (722, 936, 0),  # Aacute
    "\u00c2": (722, 936, 0),  # Acircumflex
    "\u00c3": (722, 923, 0),  # Atilde
    "\u00c4": (722, 915, 0),  # Adieresis
    "\u00c5": (722, 962, 0),  # Aring
    "\u00c6": (1000, 718, 0),  # AE
    "\u00c7": (722, 737, 228),  # Ccedilla
    "\u00c8": (667, 936, 0),  # Egrave
    "\u00c9": (667, 936, 0),  # Eacute
    "\u00ca": (667, 936, 0),  # Ecircumflex
    "\u00cb": (667, 915, 0),  # Edieresis
    "\u00cc": (278, 936, 0),  # Igrave
    "\u00cd": (278, 936, 0),  # Iacute
    "\u00ce": (278, 936, 0),  # Icircumflex
    "\u00cf": (278, 915, 0),  # Idieresis
    "\u00d0": (722, 718, 0),  # Eth
    "\u00d1": (722, 923, 0),  # Ntilde
    "\u00d2": (778, 936, 19),  # Ograve
    "\u00d3": (778, 936, 19),  # Oacute
    "\u00d4": (778, 936, 19),  # Ocircumflex
    "\u00d5": (778, 923, 19),  # Otilde
    "\u00d6": (778, 915, 19),  # Odieresis
    "\u00d7": (584, 505, 0),  # multiply
    "\u00d8": (778, 745, 27),  # Oslash
    "\u00d9": (722, 936, 19),  # Ugrave
    "\u00da": (722, 936, 19),  # Uacute
    "\u00db": (722, 936, 19),  # Ucircumflex
    "\u00dc": (722, 915, 19),  # Udieresis
    "\u00dd": (667, 936, 0),  # Yacute
    "\u00de": (667, 718, 0),  # Thorn
    "\u00df": (611, 731, 14),  # germandbls
    "\u00e0": (556, 750, 14),  # agrave
    "\u00e1": (556, 750, 14),  # aacute
    "\u00e2": (556, 750, 14),  # acircumflex
    "\u00e3": (556, 737, 14),  # atilde
    "\u00e4": (556, 729, 14),  # adieresis
    "\u00e5": (556, 776, 14),  # aring
    "\u00e6": (889, 546, 14),  # ae
    "\u00e7": (556, 546, 228),  # ccedilla
    "\u00e8": (556, 750, 14),  # egrave
    "\u00e9": (556, 750, 14),  # eacute
    "\u00ea": (556, 750, 14),  # ecircumflex
    "\u00eb": (556, 729, 14),  # edieresis
    "\u00ec": (278, 750, 0),  # igrave
    "\u00ed": (278, 750, 0),  # iacute
    "\u00ee": (278, 750, 0),  # icircumflex
    "\u00ef": (278, 729, 0),  # idieresis
    "\u00f0": (611, 737, 14),  # eth
    "\u00f1": (611, 737, 0),  # ntilde
    "\u00f2": (611, 750, 14),  # ograve
    "\u00f3": (611, 750, 14),  # oacute
    "\u00f4": (611, 750, 14),  # ocircumflex
    "\u00f5": (611, 737, 14),  # otilde
    "\u00f6": (611, 729, 14),  # odieresis
    "\u00f7": (584, 548, 42),  # divide
    "\u00f8": (611, 560, 29),  # oslash
    "\u00f9": (611, 750, 14),  # ugrave
    "\u00fa": (611, 750, 14),  # uacute
    "\u00fb": (611, 750, 14),  # ucircumflex
    "\u00fc": (611, 729, 14),  # udieresis
    "\u00fd": (556, 750, 214),  # yacute
    "\u00fe": (611, 718, 208),  # thorn
    "\u00ff": (556, 729, 214),  # ydieresis
}
