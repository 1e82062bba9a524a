#!/usr/bin/env python3
"""Regenerates fixtures/: small EPUB and PDF books, good and hostile, for Recital's tests.

Every paragraph of body text carries a unique marker word (mk001, mk002, ...) so that a test can
check that each appears in exactly one chapter. Run from anywhere: python3 scripts/make-fixtures.py
"""
import os, sys, zipfile, zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
BAD = os.path.join(ROOT, "bad")
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def write_zip(path, entries, mimetype_first=True):
    """entries: list of (name, bytes|str). mimetype is stored; everything else deflated."""
    with zipfile.ZipFile(path, "w") as z:
        ordered = list(entries)
        if mimetype_first:
            ordered = [("mimetype", "application/epub+zip")] + ordered
        for name, data in ordered:
            if isinstance(data, str):
                data = data.encode("utf-8")
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            z.writestr(info, data)


CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="{opf}" media-type="application/oebps-package+xml"/></rootfiles>
</container>"""

XHTML = """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="en">
<head><title>{title}</title><style>p {{ margin: 0 }}</style><script>var x = "never spoken";</script></head>
<body>{body}</body></html>"""

PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000000500010d0a2db40000000049454e44ae426082")
# A real 16x16 JPEG (made with ffmpeg), so that the sample run embeds a cover rather than warning.
JPEG_TINY = bytes.fromhex(
    "ffd8ffe000104a46494600010200000100010000fffe00104c61766335392e33372e31303000ffdb004300080a"
    "0a0b0a0b0d0d0d0d0d0d100f101010101010101010101012121215151512121210101212141415151717171515"
    "151517171919191e1e1c1c2323242b2b33ffc4004b000101000000000000000000000000000000060101000000"
    "000000000000000000000000051001000000000000000000000000000000001101000000000000000000000000"
    "00000000ffc00011080010001003012200021100031100ffda000c03010002110311003f008a0090f7ffd9")


def epub2_basic():
    """EPUB 2: NCX only, calibre series, ISBN, translator role, <meta name=cover>, guide."""
    chapters = []
    for i in range(1, 4):
        body = f'<h1>Chapter {i}</h1>' + "".join(
            f"<p>Paragraph {j} of chapter {i} mk{i}{j:02d}. Mr. Smith paid $3.50 for it, e.g. twice.</p>"
            for j in range(1, 4))
        chapters.append((f"OEBPS/chapter{i}.html", XHTML.format(title=f"Chapter {i}", body=body)))
    opf = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="bookid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf">
  <dc:title>A Basic Book</dc:title>
  <dc:creator opf:role="aut">Ada Author</dc:creator>
  <dc:creator opf:role="trl">Tom Translator</dc:creator>
  <dc:language>en</dc:language>
  <dc:publisher>Fixture Press</dc:publisher>
  <dc:date>2001-02-03</dc:date>
  <dc:identifier id="bookid" opf:scheme="ISBN">978-0-306-40615-7</dc:identifier>
  <dc:description>&lt;p&gt;A &lt;b&gt;small&lt;/b&gt; book.&lt;/p&gt;</dc:description>
  <meta name="calibre:series" content="Fixtures"/>
  <meta name="calibre:series_index" content="2"/>
  <meta name="cover" content="cover-img"/>
 </metadata>
 <manifest>
  <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
  <item id="cover-img" href="images/cover.png" media-type="image/png"/>
  <item id="c1" href="chapter1.html" media-type="application/xhtml+xml"/>
  <item id="c2" href="chapter2.html" media-type="application/xhtml+xml"/>
  <item id="c3" href="chapter3.html" media-type="application/xhtml+xml"/>
 </manifest>
 <spine toc="ncx"><itemref idref="c1"/><itemref idref="c2"/><itemref idref="c3"/></spine>
 <guide><reference type="text" title="Start" href="chapter1.html"/></guide>
</package>"""
    ncx = """<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><head/><docTitle><text>A Basic Book</text></docTitle>
<navMap>
 <navPoint id="n1" playOrder="1"><navLabel><text>Chapter  One ....... 1</text></navLabel><content src="chapter1.html"/></navPoint>
 <navPoint id="n2" playOrder="2"><navLabel><text>Chapter Two</text></navLabel><content src="chapter2.html"/></navPoint>
 <navPoint id="n3" playOrder="3"><navLabel><text>Chapter Three</text></navLabel><content src="chapter3.html#missing-anchor"/></navPoint>
</navMap></ncx>"""
    write_zip(os.path.join(ROOT, "epub2-basic.epub"), [
        ("META-INF/container.xml", CONTAINER.format(opf="OEBPS/content.opf")),
        ("OEBPS/content.opf", opf), ("OEBPS/toc.ncx", ncx), ("OEBPS/images/cover.png", PNG_1x1)] + chapters)


def epub3_fragments():
    """EPUB 3: nested nav, chapters sharing one file via #fragments, an entry mid-file, non-ASCII
    and %21 file names, notes, page breaks, ruby, <br>, invisible characters, UTF-16 OPF,
    duplicate manifest id, mimetype not first, SVG-wrapped cover page, copyright page."""
    part = """<section epub:type="bodymatter chapter">
<p>Opening words before any TOC target mk101.</p>
<h1 id="part1">Part One</h1>
<h2 id="ch1">The First Chapter</h2>
<p>It was a dark<span epub:type="pagebreak" id="page7" title="7">7</span> night mk102.<a epub:type="noteref" href="#fn1">1</a> The wind blew.</p>
<p>Soft\u00adhy\u00adphen and word\u2060joiner and zero\u200bwidth mk103.</p>
<p>A line<br/>broken in two mk104.</p>
<p><ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby>字 is ruby mk105.</p>
<aside epub:type="footnote" id="fn1"><p>A footnote never spoken mk199.</p></aside>
<h2 id="ch2">The Second Chapter</h2>
<p>Inline <em>emph</em>asis keeps words whole mk106.</p>
<p>Middle of the text <span id="mid">here the third chapter starts mk107.</span> And continues mk108.</p>
</section>"""
    other = """<section epub:type="chapter"><h2>Das Kapitel</h2><p>Ümlaut file name mk109.</p></section>"""
    bang = """<section epub:type="chapter"><h2>Bang</h2><p>Exclamation file name mk110.</p>
<section epub:type="endnotes"><ol><li id="en1" epub:type="endnote">An endnote mk198.</li></ol></section></section>"""
    copyright_page = """<section epub:type="copyright-page"><p>Copyright 2020. All rights reserved.</p></section>"""
    cover_page = """<div><svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 1 1"><image width="1" height="1" xlink:href="../images/cover.jpg"/></svg></div>"""
    nav = """<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>
 <li><a href="text/part.xhtml#part1">Part One</a><ol>
   <li><a href="text/part.xhtml#ch1">The  First Chapter</a></li>
   <li><a href="text/part.xhtml#ch2">The Second Chapter</a></li>
   <li><a href="text/part.xhtml#mid">The Third Chapter</a></li></ol></li>
 <li><a href="text/kapitel%20%C3%BC.xhtml">Das Kapitel</a></li>
 <li><span>Unlinked heading</span><ol><li><a href="text/bang%21.xhtml">Bang!</a></li></ol></li>
 <li><a href="text/copyright.xhtml">Copyright</a></li>
</ol></nav>
<nav epub:type="landmarks"><ol><li><a epub:type="cover" href="text/cover.xhtml">Cover</a></li></ol></nav>"""
    opf = """<?xml version="1.0" encoding="UTF-16"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:identifier id="uid">urn:uuid:12345678-1234-1234-1234-123456789abc</dc:identifier>
  <dc:identifier>urn:isbn:9780306406157</dc:identifier>
  <dc:title id="t2">Subtitle Second</dc:title>
  <dc:title id="t1">Fragments Galore</dc:title>
  <meta refines="#t1" property="title-type">main</meta>
  <dc:creator id="a1">Bea Writer</dc:creator>
  <dc:creator id="n1">Ned Narrator</dc:creator>
  <meta refines="#n1" property="role" scheme="marc:relators">nrt</meta>
  <dc:language>en-GB</dc:language>
  <meta property="dcterms:modified">2020-01-01T00:00:00Z</meta>
  <meta property="belongs-to-collection" id="c1">The Test Cycle</meta>
  <meta refines="#c1" property="group-position">3</meta>
 </metadata>
 <manifest>
  <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
  <item id="cover" href="text/cover.xhtml" media-type="application/xhtml+xml"/>
  <item id="coverimg" href="images/cover.jpg" media-type="image/jpeg"/>
  <item id="part" href="text/part.xhtml" media-type="application/xhtml+xml"/>
  <item id="part" href="text/duplicate.xhtml" media-type="application/xhtml+xml"/>
  <item id="kap" href="text/kapitel%20%C3%BC.xhtml" media-type="application/xhtml+xml"/>
  <item id="bang" href="text/bang%21.xhtml" media-type="application/xhtml+xml"/>
  <item id="copy" href="text/copyright.xhtml" media-type="application/xhtml+xml"/>
 </manifest>
 <spine><itemref idref="cover"/><itemref idref="nav"/><itemref idref="part"/><itemref idref="kap"/><itemref idref="bang"/><itemref idref="copy"/></spine>
</package>"""
    write_zip(os.path.join(ROOT, "epub3-fragments.epub"), [
        ("META-INF/container.xml", CONTAINER.format(opf="EPUB/package.opf")),
        ("mimetype", "application/epub+zip"),
        ("EPUB/package.opf", opf.encode("utf-16")),
        ("EPUB/nav.xhtml", XHTML.format(title="Contents", body=nav)),
        ("EPUB/text/cover.xhtml", XHTML.format(title="Cover", body=cover_page)),
        ("EPUB/images/cover.jpg", JPEG_TINY),
        ("EPUB/text/part.xhtml", XHTML.format(title="Part", body=part)),
        ("EPUB/text/kapitel ü.xhtml", XHTML.format(title="Kapitel", body=other)),
        ("EPUB/text/bang!.xhtml", XHTML.format(title="Bang", body=bang)),
        ("EPUB/text/copyright.xhtml", XHTML.format(title="Copyright", body=copyright_page)),
    ], mimetype_first=False)


def epub3_malformed():
    """Not well-formed XHTML (HTML entities, unclosed tags), no TOC at all: chapters from headings."""
    broken = """<html><head><title>Broken</title></head><body>
<h1>First Heading</h1><p>Caf&eacute; &amp; cr&egrave;me&nbsp;br&ucirc;l&eacute;e mk301.<p>Unclosed paragraph mk302.
<div>Open div mk303.</body></html>"""
    plain = XHTML.format(title="Plain", body="<p>No heading here continues the first chapter mk304.</p>")
    second = XHTML.format(title="Second", body="<h1>Second Heading</h1><p>Second chapter text mk305.</p>")
    opf = """<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">malformed</dc:identifier>
  <dc:title>Malformed but Common</dc:title><dc:language>fr</dc:language></metadata>
 <manifest><item id="a" href="a.xhtml" media-type="application/xhtml+xml"/>
  <item id="b" href="b.xhtml" media-type="application/xhtml+xml"/>
  <item id="c" href="c.xhtml" media-type="application/xhtml+xml"/></manifest>
 <spine><itemref idref="a"/><itemref idref="b"/><itemref idref="c"/></spine>
</package>"""
    write_zip(os.path.join(ROOT, "epub3-malformed.epub"), [
        ("META-INF/container.xml", CONTAINER.format(opf="content.opf")), ("content.opf", opf),
        ("a.xhtml", broken), ("b.xhtml", plain), ("c.xhtml", second)])


# ---------------------------------------------------------------- PDF

def pdf_escape(text):
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


class Raster:
    """A full-page scanned image: width x height pixels, 8-bit gray (bits=8) or packed 1-bit (bits=1)."""
    def __init__(self, width, height, data, bits=8):
        self.width, self.height, self.data, self.bits = width, height, data, bits


def write_pdf(path, pages, outline=None, info=None, encrypt=False, text_layer=True, xmp_language=None, lang=None):
    """pages: list of lists of (x, y, size, text), or Raster for a scanned page.
    outline: list of (title, page_index, top_y)."""
    objects = []  # index -> bytes

    def add(body):
        objects.append(body if isinstance(body, bytes) else body.encode("latin-1"))
        return len(objects)

    font = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    pages_id = len(objects) + 1
    objects.append(b"")  # placeholder for the pages tree
    page_ids = []
    for lines in pages:
        if isinstance(lines, Raster):
            pixels = zlib.compress(lines.data, 9)
            image = add(f"<< /Type /XObject /Subtype /Image /Width {lines.width} /Height {lines.height} "
                        f"/ColorSpace /DeviceGray /BitsPerComponent {lines.bits} /Filter /FlateDecode "
                        f"/Length {len(pixels)} >>\nstream\n".encode() + pixels + b"\nendstream")
            stream = b"q 612 0 0 792 0 0 cm /Im1 Do Q\n"
            content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
            page_ids.append(add(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 612 792] "
                                f"/Resources << /XObject << /Im1 {image} 0 R >> >> /Contents {content} 0 R >>"))
            continue
        if text_layer:
            # A fifth field "bold" sets the line in Helvetica-Bold, as word processors set headings.
            ops = "".join(f"BT /{'F2' if len(line) > 4 and line[4] == 'bold' else 'F1'} {line[2]} Tf {line[0]} {line[1]} Td "
                          f"({pdf_escape(line[3])}) Tj ET\n" for line in lines)
        else:
            ops = "0.5 g 50 50 500 700 re f\n"
        stream = ops.encode("cp1252")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(add(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 612 792] "
                            f"/Resources << /Font << /F1 {font} 0 R /F2 {bold} 0 R >> >> /Contents {content} 0 R >>"))
    objects[pages_id - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{p} 0 R' for p in page_ids)}] "
                             f"/Count {len(page_ids)} >>").encode()
    catalog_extra = ""
    if outline:
        outlines_id = len(objects) + 1
        objects.append(b"")
        item_ids = list(range(outlines_id + 1, outlines_id + 1 + len(outline)))
        for n, (title, page, top) in enumerate(outline):
            target = (f"/A << /S /URI /URI (https://example.org/) >>" if page is None
                      else f"/Dest [{page_ids[page]} 0 R /XYZ 0 {top} 0]")
            links = f"/Parent {outlines_id} 0 R"
            if n > 0:
                links += f" /Prev {item_ids[n - 1]} 0 R"
            if n + 1 < len(outline):
                links += f" /Next {item_ids[n + 1]} 0 R"
            add(f"<< /Title ({pdf_escape(title)}) {links} {target} >>")
        objects[outlines_id - 1] = (f"<< /Type /Outlines /First {item_ids[0]} 0 R /Last {item_ids[-1]} 0 R "
                                    f"/Count {len(outline)} >>").encode()
        catalog_extra = f" /Outlines {outlines_id} 0 R /PageMode /UseOutlines"
    if xmp_language:
        packet = ('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
                  '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
                  'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:language><rdf:Bag>'
                  f'<rdf:li>{xmp_language}</rdf:li></rdf:Bag></dc:language></rdf:Description></rdf:RDF></x:xmpmeta>'
                  '<?xpacket end="w"?>').encode()
        metadata = add(b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n" % len(packet) + packet + b"\nendstream")
        catalog_extra += f" /Metadata {metadata} 0 R"
    if lang:
        catalog_extra += f" /Lang ({lang})"
    catalog = add(f"<< /Type /Catalog /Pages {pages_id} 0 R{catalog_extra} >>")
    info_id = add("<< " + "".join(f"/{k} ({pdf_escape(v)}) " for k, v in (info or {}).items()) + ">>")
    encrypt_id = None
    if encrypt:
        encrypt_id = add("<< /Filter /Standard /V 1 /R 2 /O <" + "11" * 32 + "> /U <" + "22" * 32 + "> /P -44 >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = f"<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info_id} 0 R"
    if encrypt_id:
        trailer += f" /Encrypt {encrypt_id} 0 R /ID [<{'ab' * 16}> <{'ab' * 16}>]"
    out += ("trailer\n" + trailer + " >>\nstartxref\n%d\n%%%%EOF\n" % xref).encode()
    with open(path, "wb") as f:
        f.write(out)


def body_lines(start_y, paragraphs, size=11):
    """Lays out paragraphs as lines 14 pt apart with a blank line between paragraphs."""
    lines, y = [], start_y
    for paragraph in paragraphs:
        for n, text in enumerate(paragraph):
            lines.append((90 if n == 0 else 72, y, size, text))
            y -= 14
        y -= 10
    return lines


def running(page_number):
    return [(72, 760, 9, "A Fixture Novel"), (300, 40, 9, str(page_number))]


def pdf_outline():
    pages = [
        running(1) + [(200, 600, 24, "A Fixture Novel"), (230, 560, 14, "by Paula Printer")],
        running(2) + [(72, 700, 18, "1 Beginnings")] + body_lines(660, [
            ["The first chapter starts here mk401 and the text", "runs on over a line break with a hyphen-",
             "ated word that must rejoin mk402. Another sentence", "ends the paragraph."],
            ["A second paragraph begins mk405."]]),
        running(3) + body_lines(700, [["Still the first chapter on its second page mk403."]]),
        running(4) + [(72, 700, 18, "2 Endings")] + body_lines(660, [["The second chapter mk404 closes the book."]]),
    ]
    # The second item's destination is the page before its heading (set before a page break).
    outline = [("1 Beginnings", 1, 720), ("2 Endings", 2, 60), ("Website", None, None)]
    write_pdf(os.path.join(ROOT, "pdf-outline.pdf"), pages, outline=outline,
              info={"Title": "A Fixture Novel", "Author": "Paula Printer", "Subject": "A tiny test novel"})


def pdf_no_outline():
    pages = [running(1) + [(200, 600, 20, "Headings Only"), (72, 500, 11, "CHAPTER I.  Dawn"), (72, 480, 11, "CHAPTER II.  Dusk")]]
    pages.append(running(2) + [(72, 700, 14, "CHAPTER I.")] + [(72, 680, 14, "Dawn")] + body_lines(650, [
        ["The sun rose on chapter one mk501.", "Nobody saw it."], ["A second paragraph mk502 follows."]]))
    pages.append(running(3) + [(72, 700, 14, "CHAPTER II.")] + [(72, 680, 14, "Dusk")] + body_lines(650, [
        ["The sun set in chapter two mk503."]]))
    # The catalog names its language, as Word and LibreOffice exports do.
    write_pdf(os.path.join(ROOT, "pdf-no-outline.pdf"), pages, info={"Title": "Headings Only", "Author": "Janet Maker"},
              lang="en-US")


def pdf_anthology():
    """A word-processor anthology with no outline: each story is a bold title a little larger than
    the text, then a byline, then the story; a printed contents page lists them; stories start mid-page."""
    stories = [
        ("The Miller's Daughter", "Ann Author", [["At dawn the mill wheel turned an1 and the daughter woke.", "She went down to the river."],
                                                ["The water was high that spring an2."]]),
        ("A Winter Crossing", "Ben Writer", [["Snow lay on the pass an3 when the travellers came.", "They did not stop."],
                                              ["By night they reached the inn an4."]]),
        ("The Last Lantern", "Cy Storyteller", [["In the village one lantern still burned an5.", "Nobody knew who kept it lit."]]),
    ]
    contents = [(72, 620, 11, title) for title, _, _ in stories]
    contents = [(72, 620 - 18 * n, 11, title) for n, (title, _, _) in enumerate(stories)]
    pages = [[(150, 720, 22, "Tales of the Valley", "bold"), (200, 690, 12, "Collected Stories"), (72, 650, 12, "Contents")] + contents]
    y, current = 720, []
    for title, author, paragraphs in stories:
        if y < 300:
            pages.append(current)
            y, current = 720, []
        current += [(72, y, 13, title, "bold"), (72, y - 18, 11, f"by {author}")]
        body = body_lines(y - 44, paragraphs)
        current += body
        y = body[-1][1] - 40
    pages.append(current)
    # Its XMP says English: the language comes from there, not from the text.
    write_pdf(os.path.join(ROOT, "pdf-anthology.pdf"), pages, info={"Title": "Tales of the Valley"}, xmp_language="en-GB")


def pdf_numbered():
    """No outline and no 'Chapter' words: numbered headings set larger than the body."""
    def heading(y, text):
        return [(72, y, 16, text)]
    pages = [
        [(200, 650, 20, "Numbered Notes"), (72, 600, 11, "A short report without an outline mk600.")],
        heading(700, "1 Introduction") + body_lines(670, [["This report starts here mk601.", "It has two lines."]]),
        heading(700, "2 Method") + body_lines(670, [["We measured mk602 things."]])
        + heading(600, "2.1 Details") + body_lines(570, [["Details follow mk603."]]),
        heading(700, "3 Results") + body_lines(670, [["It worked mk604. There are 3 samples in 2 groups."]]),
    ]
    write_pdf(os.path.join(ROOT, "pdf-numbered.pdf"), pages, info={"Title": "Numbered Notes"})


def pdf_plain():
    """25 pages of prose with no outline and no headings: chapters fall back to page ranges."""
    pages = [body_lines(700, [[f"Page {n + 1} holds plain prose mk7{n:02d} and nothing that looks like a heading."]])
             for n in range(25)]
    write_pdf(os.path.join(ROOT, "pdf-plain.pdf"), pages, info={"Title": "Plain Pages"})


def pdf_untitled():
    """A word-processor style export with no title or author in its metadata: named after its file."""
    pages = [body_lines(700, [["Revenue grew in every quarter mk801.", "Costs held steady."],
                              ["The board thanks everyone mk802."]])]
    write_pdf(os.path.join(ROOT, "annual_report-2024.pdf"), pages, info={"Producer": "Writer"})
    # Another report of the same file name, in another folder: a second book that titles the same.
    pages = [body_lines(700, [["Membership doubled this year mk811."], ["Thanks to all volunteers mk812."]])]
    os.makedirs(os.path.join(ROOT, "untitled"), exist_ok=True)
    write_pdf(os.path.join(ROOT, "untitled", "annual_report-2024.pdf"), pages, info={"Producer": "Writer"})


# ---------------------------------------------------------------- hostile and broken input

def minimal_epub(path, content, extra=(), opf_override=None):
    opf = opf_override or """<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">x</dc:identifier><dc:title>X</dc:title></metadata>
 <manifest><item id="a" href="a.xhtml" media-type="application/xhtml+xml"/></manifest>
 <spine><itemref idref="a"/></spine></package>"""
    write_zip(path, [("META-INF/container.xml", CONTAINER.format(opf="content.opf")), ("content.opf", opf),
                     ("a.xhtml", content)] + list(extra))


def bad_inputs():
    good = XHTML.format(title="A", body="<p>Readable text.</p>")
    open(os.path.join(BAD, "empty.epub"), "wb").close()
    with open(os.path.join(BAD, "random-bytes.epub"), "wb") as f:
        f.write(bytes((i * 7919 + 13) % 251 for i in range(4096)))
    with open(os.path.join(ROOT, "epub2-basic.epub"), "rb") as f:
        whole = f.read()
    with open(os.path.join(BAD, "truncated.epub"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    write_zip(os.path.join(BAD, "no-container.epub"), [("content.opf", "<package/>")])
    minimal_epub(os.path.join(BAD, "missing-file.epub"), good, opf_override="""<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata/>
 <manifest><item id="a" href="a.xhtml" media-type="application/xhtml+xml"/>
 <item id="b" href="gone.xhtml" media-type="application/xhtml+xml"/></manifest>
 <spine><itemref idref="a"/><itemref idref="b"/></spine></package>""")
    encryption = """<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
 <enc:EncryptedData><enc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
 <enc:CipherData><enc:CipherReference URI="a.xhtml"/></enc:CipherData></enc:EncryptedData></encryption>"""
    minimal_epub(os.path.join(BAD, "drm.epub"), good, [("META-INF/encryption.xml", encryption)])
    obfuscation = """<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" xmlns:enc="http://www.w3.org/2001/04/xmlenc#">
 <enc:EncryptedData><enc:EncryptionMethod Algorithm="http://www.idpf.org/2008/embedding"/>
 <enc:CipherData><enc:CipherReference URI="fonts/f.otf"/></enc:CipherData></enc:EncryptedData></encryption>"""
    minimal_epub(os.path.join(ROOT, "font-obfuscation.epub"), good,
                 [("META-INF/encryption.xml", obfuscation), ("fonts/f.otf", b"\x00" * 64)])
    minimal_epub(os.path.join(BAD, "zip-slip.epub"), good, [("../../evil.xhtml", good)])
    with zipfile.ZipFile(os.path.join(BAD, "zip-bomb.epub"), "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype", FIXED_TIME), "application/epub+zip")
        z.writestr(zipfile.ZipInfo("META-INF/container.xml", FIXED_TIME), CONTAINER.format(opf="content.opf"))
        info = zipfile.ZipInfo("content.opf", FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as entry:
            block = b"\x20" * (1 << 20)
            for _ in range(80):  # 80 MB of spaces inflate from ~80 KB
                entry.write(block)
    xxe = """<?xml version="1.0"?>
<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head><body><p>&xxe;</p></body></html>"""
    minimal_epub(os.path.join(BAD, "xxe.epub"), xxe)
    laughs = '<?xml version="1.0"?>\n<!DOCTYPE html [\n<!ENTITY lol "lol">\n'
    for level in range(1, 10):
        previous = "lol" if level == 1 else f"lol{level - 1}"
        laughs += f'<!ENTITY lol{level} "{("&" + previous + ";") * 10}">\n'
    laughs += ']>\n<html xmlns="http://www.w3.org/1999/xhtml"><head><title>x</title></head><body><p>&lol9;</p></body></html>'
    minimal_epub(os.path.join(BAD, "billion-laughs.epub"), laughs)
    deep = XHTML.format(title="deep", body="<div>" * 5000 + "text" + "</div>" * 5000)
    minimal_epub(os.path.join(BAD, "deep-nesting.epub"), deep)
    write_pdf(os.path.join(BAD, "encrypted.pdf"), [[(72, 700, 12, "Secret text")]], encrypt=True)
    write_pdf(os.path.join(BAD, "scanned.pdf"), [[], [], []], text_layer=False)
    with open(os.path.join(BAD, "garbage.pdf"), "wb") as f:
        f.write(b"%PDF-1.7\n" + bytes((i * 31 + 7) % 256 for i in range(2048)))


def large_epub(path, megabytes, characters=None, paragraphs_per_chapter=60, chapter_count=None, sentence_range=(3, 7)):
    """A novel-shaped EPUB of about `megabytes` MB on disk (or `characters` of text), for
    benchmarks (not committed)."""
    import random
    rng = random.Random(1234)
    vocabulary = [w for w in (
        "the of and to a in that it was he she his her had with for as at on by not but be this from they "
        "said were which one all have would there their you what so if no when been who will more out up into "
        "whale ship sea captain boat night morning voice window garden letter mother father river mountain "
        "silence remember thought suddenly against between himself herself nothing something everything "
        "Ishmael Ahab Queequeg Starbuck Elizabeth Victor Justine Clerval Geneva London Paris").split()]
    chapters, size, number = [], 0, 0
    target = characters if characters else megabytes * 1024 * 1024 * 3.0  # deflate shrinks text ~3 times
    while (number < chapter_count) if chapter_count else (size < target):
        number += 1
        paragraphs = []
        for _ in range(paragraphs_per_chapter):
            sentences = []
            for _ in range(rng.randint(*sentence_range)):
                words = [rng.choice(vocabulary) for _ in range(rng.randint(6, 24))]
                sentences.append(" ".join(words).capitalize() + rng.choice([".", ".", ".", "!", "?"]))
            paragraphs.append("<p>" + " ".join(sentences) + "</p>")
        body = f"<h1>Chapter {number}</h1>" + "\n".join(paragraphs)
        chapters.append((f"OEBPS/c{number:04d}.xhtml", XHTML.format(title=f"Chapter {number}", body=body)))
        size += sum(len(p) - 7 for p in paragraphs) if characters else len(body)
    items = "".join(f'<item id="c{i}" href="c{i:04d}.xhtml" media-type="application/xhtml+xml"/>' for i in range(1, number + 1))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in range(1, number + 1))
    nav_items = "".join(f'<li><a href="c{i:04d}.xhtml">Chapter {i}</a></li>' for i in range(1, number + 1))
    opf = f"""<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">large</dc:identifier>
  <dc:title>A Large Generated Book</dc:title><dc:creator>Bench Mark</dc:creator><dc:language>en</dc:language></metadata>
 <manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>{items}</manifest>
 <spine>{spine}</spine></package>"""
    nav = XHTML.format(title="Contents", body=f'<nav epub:type="toc"><ol>{nav_items}</ol></nav>')
    write_zip(path, [("META-INF/container.xml", CONTAINER.format(opf="OEBPS/content.opf")),
                     ("OEBPS/content.opf", opf), ("OEBPS/nav.xhtml", nav)] + chapters)


def scene_breaks():
    """A short story whose scene breaks are paragraphs with nothing to speak (`* * *`, `—`, `…`)."""
    def chapter(n, breaks):
        paragraphs = []
        for i, mark in enumerate(breaks):
            paragraphs.append(f"<p>Part {i + 1} of chapter {n} begins. The lamp was lit and the night went on.</p>")
            paragraphs.append(f"<p>{mark}</p>")
        paragraphs.append(f"<p>Chapter {n} ends here, quietly.</p>")
        body = f"<h1>Chapter {n}</h1>" + "\n".join(paragraphs)
        return (f"c{n}.xhtml", XHTML.format(title=f"Chapter {n}", body=body))
    chapters = [chapter(1, ["* * *", "—"]), chapter(2, ["…", "#", "* * *"])]
    items = "".join(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>' for i in (1, 2))
    spine = "".join(f'<itemref idref="c{i}"/>' for i in (1, 2))
    nav_items = "".join(f'<li><a href="c{i}.xhtml">Chapter {i}</a></li>' for i in (1, 2))
    opf = f"""<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">scenes</dc:identifier>
  <dc:title>Scene Breaks</dc:title><dc:creator>Sam Sections</dc:creator><dc:language>en</dc:language></metadata>
 <manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>{items}</manifest>
 <spine>{spine}</spine></package>"""
    nav = XHTML.format(title="Contents", body=f'<nav epub:type="toc"><ol>{nav_items}</ol></nav>')
    write_zip(os.path.join(ROOT, "scene-breaks.epub"), [("META-INF/container.xml", CONTAINER.format(opf="content.opf")),
              ("content.opf", opf), ("nav.xhtml", nav)] + chapters)


def fixed_layout():
    """A pre-paginated (fixed-layout) picture book whose text lives only in SVG <text> lines: an
    <svg> wrapping a page image with text over it, a line broken with a hyphen (res- / tait), lines
    written out of reading order, a page that is only a picture, an SVG spine document, and a nav
    with one entry for the whole story."""
    ns = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
    def page(svg):
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
                '<head><title>Page</title><meta name="viewport" content="width=600, height=800"/></head>'
                f'<body>{svg}</body></html>')
    page1 = page(f"""<svg {ns} viewBox="0 0 600 800"><image width="600" height="800" xlink:href="p1.jpg"/>
<text x="40" y="60">Once upon a time a little fox</text>
<text x="40" y="90">lived under the old oak tree fl101.</text>
<text x="40" y="160">Every morning she ran to the river</text>
<text x="40" y="190">to drink and to watch the fish fl102.</text></svg>""")
    page2 = page(f"""<svg {ns} viewBox="0 0 600 800"><text x="40" y="60"><tspan x="40" y="60">One day the river was quiet and the fox res-</tspan><tspan x="40" y="90">tait on the bank for a long while fl103.</tspan></text>
<text x="40" y="160">When the sun went down she went home fl104.</text></svg>""")
    # Written bottom line first: document order is clearly not reading order here.
    page3 = page(f"""<svg {ns} viewBox="0 0 600 800"><text x="40" y="190">and the stars came out one by one fl106.</text>
<text x="40" y="160">The night was cold and clear fl105.</text>
<text x="40" y="250">The owl called twice from the oak fl107.</text>
<text x="40" y="220">Somewhere far away a dog barked fl108.</text></svg>""")
    picture = page(f"""<svg {ns} viewBox="0 0 600 800"><image width="600" height="800" xlink:href="p1.jpg"/></svg>""")
    last = f"""<?xml version="1.0" encoding="UTF-8"?>
<svg {ns} viewBox="0 0 600 800"><text x="40" y="60">The fox slept until morning.</text>
<text x="40" y="90">The End fl109.</text></svg>"""
    pages = [("p1.xhtml", page1), ("p2.xhtml", page2), ("p3.xhtml", page3), ("p4.xhtml", picture)]
    items = "".join(f'<item id="p{i + 1}" href="{name}" media-type="application/xhtml+xml" properties="svg"/>'
                    for i, (name, _) in enumerate(pages))
    items += '<item id="p5" href="p5.svg" media-type="image/svg+xml"/><item id="img" href="p1.jpg" media-type="image/jpeg"/>'
    spine = "".join(f'<itemref idref="p{i}"/>' for i in range(1, 6))
    opf = f"""<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">fixed</dc:identifier>
  <dc:title>The Little Fox</dc:title><dc:creator>Pia Pictures</dc:creator><dc:language>en</dc:language>
  <meta property="rendition:layout">pre-paginated</meta></metadata>
 <manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>{items}</manifest>
 <spine>{spine}</spine></package>"""
    nav = XHTML.format(title="Contents", body='<nav epub:type="toc"><ol><li><a href="p1.xhtml">The Little Fox</a></li></ol></nav>')
    write_zip(os.path.join(ROOT, "fixed-layout.epub"), [("META-INF/container.xml", CONTAINER.format(opf="content.opf")),
              ("content.opf", opf), ("nav.xhtml", nav), ("p1.jpg", JPEG_TINY), ("p5.svg", last)] + pages)


def languages():
    """Short books in several languages with no dc:language (and one whose metadata says English
    over French text), for language detection."""
    texts = {
        "fr": "Le matin, la petite ville se réveille lentement. Les enfants vont à l'école et les boulangers ouvrent "
              "leurs portes. Il fait froid, mais le soleil est déjà dans le ciel. Elle marche dans la rue avec son chien "
              "et pense à la lettre qu'elle doit écrire. Le facteur passe devant la fontaine et salue tout le monde.",
        "es": "La casa de mi abuela está en un pueblo pequeño. En verano los niños juegan en la plaza y las mujeres "
              "hablan en la puerta. El río pasa cerca de la iglesia y por la noche se oyen las ranas. No hay mucho "
              "ruido, pero la vida es buena y la comida es la mejor del mundo.",
        "de": "Der Zug kam spät in der Stadt an, und die Reisenden waren müde. Es regnete, und die Straßen waren "
              "leer. Sie nahm ihren Koffer und ging zu dem kleinen Hotel am Markt. Der Wirt war freundlich und gab "
              "ihr ein Zimmer mit einem Fenster auf den Platz. Das Essen war einfach, aber gut.",
        "ru": "Утром в деревне было тихо. Он вышел из дома и пошёл к реке, как делал это каждый день. Она ждала его "
              "на мосту, и они долго говорили о том, что было летом. Потом пошёл снег, и всё вокруг стало белым. "
              "Это была самая длинная зима в его жизни.",
        "ar": "في الصباح خرج الصياد إلى البحر مع ابنه. كان الجو هادئا والماء صافيا. قال الأب إن هذا اليوم سيكون جيدا، "
              "وكان على حق. عادا إلى البيت قبل الغروب ومعهما سمك كثير. فرحت الأم كثيرا وأعدت العشاء للجميع.",
        "ja": "朝早く、少女は駅へ向かいました。雨が降っていましたが、彼女は傘を持っていませんでした。電車の中で、"
              "古い友だちに会いました。二人は昔の話をして、たくさん笑いました。駅を出ると、空はもう晴れていました。",
        "hi": "गाँव में एक छोटा सा स्कूल था। बच्चे हर सुबह पैदल वहाँ जाते थे। शिक्षक बहुत अच्छे थे और सब उनसे प्यार करते थे। "
              "एक दिन बारिश बहुत तेज़ हुई, पर कोई भी बच्चा घर पर नहीं रुका। यह बात पूरे गाँव में सबको याद है।",
    }
    folder = os.path.join(ROOT, "languages")
    os.makedirs(folder, exist_ok=True)
    def book(name, title, text, language=None):
        meta = f"<dc:language>{language}</dc:language>" if language else ""
        opf = f"""<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">lang-{name}</dc:identifier>
  <dc:title>{title}</dc:title><dc:creator>Lena Lingua</dc:creator>{meta}</metadata>
 <manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
  <item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest>
 <spine><itemref idref="c1"/></spine></package>"""
        nav = XHTML.format(title="Contents", body='<nav epub:type="toc"><ol><li><a href="c1.xhtml">One</a></li></ol></nav>')
        chapter = XHTML.format(title=title, body=f"<h1>{title}</h1><p>{text}</p><p>{text}</p>")
        write_zip(os.path.join(folder, f"{name}.epub"), [("META-INF/container.xml", CONTAINER.format(opf="content.opf")),
                  ("content.opf", opf.encode("utf-8")), ("nav.xhtml", nav), ("c1.xhtml", chapter.encode("utf-8"))])
    for code, text in texts.items():
        book(code, f"Book {code}", text)
    book("fr-labelled-en", "Mislabelled", texts["fr"], language="en")


SCAN_TEXT = [
    ("Chapter One", [
        "The lighthouse stood at the end of a long spit of shingle, and for thirty years Tobias Wren had kept "
        "its lamp burning through every storm the northern sea could raise.",
        "He rose each evening before dusk, climbed the hundred and twelve steps with a can of oil in one hand and "
        "a lantern in the other, trimmed the wick, polished the great lens until it shone, and then sat by the "
        "window with his logbook open on his knees.",
        "Ships passed in the night like slow thoughts. Some of them he knew by the rhythm of their engines, and "
        "some he named himself, after birds, because no one had ever told him what they were called.",
        "In the spring a letter came from the harbour office. It was short and polite, and it said that the "
        "light would be made automatic before the winter, and that his services would no longer be required.",
        "He did not answer it at once. Instead he walked the length of the spit at low tide, counting the posts "
        "of the old jetty, most of which were green with weed and leaning towards the land.",
        "His sister wrote from the town every month. She had a spare room above the bakery, she said, with a "
        "view of the market square and a bed that did not smell of salt.",
    ]),
    ("Chapter Two", [
        "Tobias read the letter three times and then folded it into his logbook, where it stayed for a week "
        "while he went about his work as though nothing had changed.",
        "The engineers arrived on a grey morning in June. They were young and cheerful, they carried boxes of "
        "cables and small humming machines, and they called him sir, which nobody had done for a long time.",
        "By August the new lamp turned by itself. Tobias still climbed the stairs each evening, out of habit, "
        "and watched the beam sweep across the water without any help from him at all.",
        "On his last night he wrote a final entry in the logbook: wind westerly, sea moderate, visibility good, "
        "all ships safely past. Then he closed the book, left it on the table, and walked home along the shore.",
        "The room above the bakery was warm and bright. In the mornings the smell of bread came up through the "
        "floorboards, and in the evenings the square filled with people he did not know.",
    ]),
    ("Chapter Three", [
        "For a month he slept badly. He woke at the hour when the lamp had needed trimming, listened for the "
        "wind, and found only the quiet of the town and the ticking of a clock on the landing.",
        "One evening he walked up to the headland above the harbour. From there he could see the lighthouse, "
        "small and far away, its beam turning patiently across the dark water exactly as it always had.",
        "He stood there until the first ship came round the point, a low freighter with a single light at her "
        "masthead, and he watched her pass the rocks and turn towards the open sea.",
        "After that he slept well. He helped his sister in the bakery, learned the names of the people in the "
        "square, and on clear nights he climbed the headland to count the ships going by.",
        "When the children of the town asked him what he had done before, he told them that he had kept a light, "
        "and that the light was keeping itself now, which was the best thing a keeper could hope for.",
    ]),
]


def scan_source_pages(chapters, title, author, running_title):
    """Lays a short book out as text pages: a title page, then chapters opening a third of the way down a
    page with an 18 pt heading, 13 pt body wrapped at 56 characters, a running title at the top and a page
    number at the bottom."""
    import textwrap
    pages = [[(150, 560, 24, title), (220, 520, 14, f"by {author}")]]
    number = 1
    for heading, paragraphs in chapters:
        number += 1
        current, y = [(72, 760, 9, running_title), (300, 40, 9, str(number)), (72, 600, 18, heading)], 560
        for paragraph in paragraphs:
            wrapped = hyphenate(textwrap.wrap(paragraph, 56), 56)
            if y - 20 * len(wrapped) < 80:
                pages.append(current)
                number += 1
                current, y = [(72, 760, 9, running_title), (300, 40, 9, str(number))], 720
            for n, text in enumerate(wrapped):
                current.append((90 if n == 0 else 72, y, 13, text))
                y -= 20
            y -= 8
        pages.append(current)
    return pages


def hyphenate(lines, width):
    """Breaks a long word that opens a line after its fifth letter when the piece fits on the line before,
    as a typesetter would ("auto-" / "matic")."""
    for n in range(len(lines) - 1):
        first, _, rest = lines[n + 1].partition(" ")
        word = first.rstrip(".,;:")
        if len(word) >= 10 and word.isalpha() and len(lines[n]) + 7 <= width:
            lines[n] += " " + first[:5] + "-"
            lines[n + 1] = (first[5:] + " " + rest).strip()
    return lines


def rasterise(pages, dpi, tmp):
    """Draws text pages with poppler's pdftoppm (poppler-utils) and returns each as (width, height, gray
    bytes): the fixture's scans are real renderings of text whose words are known."""
    import subprocess, tempfile
    with tempfile.TemporaryDirectory(dir=tmp) as folder:
        source = os.path.join(folder, "source.pdf")
        write_pdf(source, pages)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", source, os.path.join(folder, "p")], check=True)
        images = []
        for name in sorted(os.listdir(folder), key=lambda n: (len(n), n)):
            if not name.endswith(".pgm"):
                continue
            data = open(os.path.join(folder, name), "rb").read()
            # P5 header: magic, width, height, maxval, each followed by whitespace.
            fields, position = [], 0
            while len(fields) < 4:
                end = position
                while data[end:end + 1] not in (b" ", b"\n", b"\r", b"\t"):
                    end += 1
                if end > position:
                    fields.append(data[position:end])
                position = end + 1
            width, height = int(fields[1]), int(fields[2])
            images.append((width, height, data[position:position + width * height]))
        return images


def bilevel(width, height, gray):
    """An 8-bit page thresholded to 1 bit per pixel, packed as PDF wants (1 = white), as office scanners
    store text pages."""
    row_bytes = (width + 7) // 8
    out = bytearray(row_bytes * height)
    for y in range(height):
        row = gray[y * width:(y + 1) * width]
        for x in range(width):
            if row[x] >= 128:
                out[y * row_bytes + x // 8] |= 0x80 >> (x % 8)
    return Raster(width, height, bytes(out), bits=1)


def faded(width, height, gray):
    """A poor copy: grey ink on a grey page (what a worn photocopy or a fax gives)."""
    return Raster(width, height, bytes(150 + (v * 55) // 255 for v in gray))


def pdf_scanned():
    """A scanned book with no text layer: its pages are pdftoppm renderings of a text PDF, stored as
    200 dpi bilevel images, except page 3, a faded grey copy at 46 dpi whose words Tesseract reads with
    low confidence. Its source text is in SCAN_TEXT."""
    pages = scan_source_pages(SCAN_TEXT, "The Lighthouse Keeper", "Mara Quill", "The Lighthouse Keeper")
    rasters = [bilevel(width, height, gray) for width, height, gray in rasterise(pages, 200, ROOT)]
    rasters[2] = faded(*rasterise([pages[2]], 46, ROOT)[0])
    write_pdf(os.path.join(ROOT, "pdf-scanned.pdf"), rasters, info={"Title": "The Lighthouse Keeper"})
    write_scan_text(os.path.join(ROOT, "pdf-scanned.txt"), SCAN_TEXT)


def write_scan_text(path, chapters):
    """The words a scan was made from, for measuring what OCR reads: "## Title" lines, then paragraphs."""
    with open(path, "w", encoding="utf-8") as f:
        for title, paragraphs in chapters:
            f.write(f"## {title}\n\n" + "\n\n".join(paragraphs) + "\n\n")


def illustration(width, height):
    """A full-page picture with no words: a sky graded to a sea, a sun and hills (a plate in a novel)."""
    import math
    out = bytearray(width * height)
    for y in range(height):
        for x in range(width):
            sky = 120 + (y * 100) // height
            hill = height * 0.6 + math.sin(x / width * 7) * height * 0.08
            sun = (x - width * 0.7) ** 2 + (y - height * 0.25) ** 2 < (width * 0.12) ** 2
            v = 250 if sun else (70 + (x * 40) // width if y > hill else sky)
            out[y * width + x] = v
    return Raster(width, height, bytes(out))


def pdf_mixed():
    """A text PDF with one scanned page in the middle (a page a publisher pasted in as an image) and a
    full-page illustration before the last chapter."""
    pages = scan_source_pages(SCAN_TEXT, "The Keeper's Log", "Mara Quill", "The Keeper's Log")
    width, height, gray = rasterise([pages[2]], 200, ROOT)[0]
    pages[2] = bilevel(width, height, gray)
    pages.insert(4, illustration(425, 550))
    write_pdf(os.path.join(ROOT, "pdf-mixed.pdf"), pages, info={"Title": "The Keeper's Log", "Author": "Mara Quill"})


def pdf_scanned_german():
    """One scanned page in German and no language in its metadata: the language is found from a first
    reading, and the page read again with the German model (umlauts and ß)."""
    text = [("Kapitel Eins", [
        "Der Leuchtturm stand am Ende einer langen Landzunge, und dreißig Jahre lang hatte Tobias die Lampe "
        "durch jeden Sturm gebracht, den das nördliche Meer aufbringen konnte.",
        "Jeden Abend stieg er die hundertzwölf Stufen hinauf, füllte das Öl nach, putzte die große Linse, bis "
        "sie glänzte, und setzte sich dann mit seinem Logbuch ans Fenster.",
        "Die Schiffe zogen in der Nacht vorüber wie langsame Gedanken. Manche erkannte er am Klang ihrer "
        "Maschinen, und manchen gab er selbst Namen, nach Vögeln, weil ihm niemand gesagt hatte, wie sie hießen.",
    ])]
    pages = scan_source_pages(text, "Der Leuchtturmwärter", "Mara Quill", "Der Leuchtturmwärter")[1:]
    rasters = [bilevel(w, h, g) for w, h, g in rasterise(pages, 200, ROOT)]
    write_pdf(os.path.join(ROOT, "pdf-scanned-de.pdf"), rasters, info={"Title": "Der Leuchtturmwärter"})
    write_scan_text(os.path.join(ROOT, "pdf-scanned-de.txt"), text)


def scan_book(path, page_count):
    """A scanned book of `page_count` full pages for the OCR benchmark: chapters of all SCAN_TEXT's
    paragraphs, drawn by pdftoppm at 300 dpi in black and white (as archive scans are stored), no text
    layer."""
    import subprocess, tempfile
    chapters, pages = [], []
    paragraphs = [p for _, chapter in SCAN_TEXT for p in chapter]
    while len(pages) < page_count:
        chapters.append((f"Chapter {len(chapters) + 1}", paragraphs))
        pages = scan_source_pages(chapters, "The Lighthouse Keeper", "Mara Quill", "The Lighthouse Keeper")
    with tempfile.TemporaryDirectory() as folder:
        source = os.path.join(folder, "source.pdf")
        write_pdf(source, pages[:page_count])
        subprocess.run(["pdftoppm", "-r", "300", "-mono", source, os.path.join(folder, "p")], check=True)
        rasters = []
        for name in sorted((n for n in os.listdir(folder) if n.endswith(".pbm")), key=lambda n: (len(n), n)):
            data = open(os.path.join(folder, name), "rb").read()
            # P4: magic, width and height, then rows of packed bits with 1 for black; PDF's 1-bit gray
            # has 1 for white, so the bits are flipped.
            header = data.split(b"\n", 2)
            width, height = map(int, header[1].split())
            bits = bytes(255 - b for b in header[2][: ((width + 7) // 8) * height])
            rasters.append(Raster(width, height, bits, bits=1))
    write_pdf(path, rasters, info={"Title": "The Lighthouse Keeper"})


def back_matter():
    """Back matter the book's TOC lists: endnotes (marked so by epub:type and by the landmarks), an
    "About this document" page, and a colophon (epub:type and landmarks). The first two are read as
    chapters; the colophon is not."""
    opf = """<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">
 <metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="uid">back-matter</dc:identifier>
  <dc:title>Back Matter</dc:title><dc:creator>Nora Notes</dc:creator><dc:language>en</dc:language></metadata>
 <manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
  <item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>
  <item id="notes" href="notes.xhtml" media-type="application/xhtml+xml"/>
  <item id="about" href="about.xhtml" media-type="application/xhtml+xml"/>
  <item id="colophon" href="colophon.xhtml" media-type="application/xhtml+xml"/></manifest>
 <spine><itemref idref="nav"/><itemref idref="c1"/><itemref idref="notes"/><itemref idref="about"/>
  <itemref idref="colophon"/></spine></package>"""
    nav = XHTML.format(title="Contents", body="""<nav epub:type="toc"><ol>
<li><a href="c1.xhtml">The Survey</a></li><li><a href="notes.xhtml">Notes</a></li>
<li><a href="about.xhtml">About this document</a></li><li><a href="colophon.xhtml">Colophon</a></li></ol></nav>
<nav epub:type="landmarks"><ol><li><a epub:type="bodymatter" href="c1.xhtml">Start</a></li>
<li><a epub:type="endnotes" href="notes.xhtml">Notes</a></li>
<li><a epub:type="colophon" href="colophon.xhtml">Colophon</a></li></ol></nav>""")
    chapter = XHTML.format(title="The Survey", body="""<h1>The Survey</h1><p>The survey of the marsh bm1
began in spring<a epub:type="noteref" href="notes.xhtml#n1">1</a> and ended in autumn.</p>""")
    notes = XHTML.format(title="Notes", body="""<section epub:type="endnotes"><h1>Notes</h1><ol>
<li id="n1"><p>The spring of that year was unusually wet bm2.</p></li></ol></section>""")
    about = XHTML.format(title="About", body="""<h1>About this document</h1><p>This report was written for the
parish council bm3 and may be copied freely.</p>""")
    colophon = XHTML.format(title="Colophon", body="""<section epub:type="colophon"><h1>Colophon</h1><p>Set in
Garamond bm4 by the author.</p></section>""")
    write_zip(os.path.join(ROOT, "back-matter.epub"), [("META-INF/container.xml", CONTAINER.format(opf="content.opf")),
              ("content.opf", opf), ("nav.xhtml", nav), ("c1.xhtml", chapter), ("notes.xhtml", notes),
              ("about.xhtml", about), ("colophon.xhtml", colophon)])


def many_chapters():
    """120 short chapters (a sentence or two each), for crash tests that need many claimable tasks."""
    large_epub(os.path.join(ROOT, "many-chapters.epub"), 0, paragraphs_per_chapter=1, chapter_count=120,
               sentence_range=(1, 2))


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "--new":
        back_matter()
        pdf_scanned()
        pdf_mixed()
        pdf_scanned_german()
        fixed_layout()
        pdf_anthology()
        languages()
        many_chapters()
        pdf_untitled()
        scene_breaks()
        sys.exit(0)

    if len(sys.argv) == 4 and sys.argv[1] == "--scan-book":
        scan_book(sys.argv[2], int(sys.argv[3]))
        print(sys.argv[2], os.path.getsize(sys.argv[2]), "bytes")
        sys.exit(0)
    if len(sys.argv) == 4 and sys.argv[1] == "--large-chars":
        large_epub(sys.argv[2], 0, characters=int(sys.argv[3]))
        print(sys.argv[2], os.path.getsize(sys.argv[2]), "bytes")
        sys.exit(0)
    if len(sys.argv) == 4 and sys.argv[1] == "--large":
        large_epub(sys.argv[2], float(sys.argv[3]))
        print(sys.argv[2], os.path.getsize(sys.argv[2]), "bytes")
        sys.exit(0)
    os.makedirs(BAD, exist_ok=True)
    epub2_basic()
    epub3_fragments()
    epub3_malformed()
    pdf_outline()
    pdf_no_outline()
    pdf_numbered()
    pdf_anthology()
    pdf_plain()
    pdf_untitled()
    pdf_scanned()
    pdf_mixed()
    pdf_scanned_german()
    # A small novel for conversion tests: a few hundred segments in a handful of chapters.
    large_epub(os.path.join(ROOT, "novella.epub"), 0, characters=50000, paragraphs_per_chapter=10)
    many_chapters()
    scene_breaks()
    back_matter()
    fixed_layout()
    languages()
    bad_inputs()
    print("fixtures written to", os.path.normpath(ROOT))
