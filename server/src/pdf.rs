//! A4 documents as PDF (acts, reports; later the paper UPD, T8), with the DejaVu Sans font
//! embedded (public/fonts, its licence beside it) so that Kazakh letters (ә ғ қ ң ө ұ ү һ і)
//! and the tenge sign ₸ print on any reader.

use anyhow::{Result, anyhow};
use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::text::{Font, TextDirection};

const FONT: &[u8] = include_bytes!("../../public/fonts/DejaVuSans.ttf");
const WIDTH: f32 = 595.28;
const HEIGHT: f32 = 841.89;
const MARGIN: f32 = 48.0;

struct Item {
    x: f32,
    y: f32,
    size: f32,
    text: String,
}

/// A QR code's dark modules, drawn as squares.
struct Qr {
    page: usize,
    x: f32,
    y: f32,
    module: f32,
    width: usize,
    dark: Vec<bool>,
}

/// A document built line by line, paginated as it grows.
pub struct Pdf {
    pages: Vec<Vec<Item>>,
    codes: Vec<Qr>,
    y: f32,
}

impl Default for Pdf {
    fn default() -> Self {
        Pdf {
            pages: vec![Vec::new()],
            codes: Vec::new(),
            y: MARGIN,
        }
    }
}

impl Pdf {
    pub fn new() -> Pdf {
        Pdf::default()
    }

    fn advance(&mut self, height: f32) -> f32 {
        if self.y + height > HEIGHT - MARGIN {
            self.pages.push(Vec::new());
            self.y = MARGIN;
        }
        self.y += height;
        self.y
    }

    fn put(&mut self, x: f32, size: f32, text: &str) {
        let y = self.y;
        if let Some(page) = self.pages.last_mut() {
            page.push(Item {
                x,
                y,
                size,
                text: text.to_string(),
            });
        }
    }

    pub fn title(&mut self, text: &str) {
        self.advance(24.0);
        self.put(MARGIN, 12.5, text);
        self.advance(6.0);
    }

    pub fn heading(&mut self, text: &str) {
        self.advance(20.0);
        self.put(MARGIN, 11.5, text);
    }

    /// A paragraph, wrapped at word boundaries.
    pub fn text(&mut self, text: &str) {
        for line in wrap(text, 92) {
            self.advance(14.0);
            self.put(MARGIN, 10.0, &line);
        }
    }

    /// A label and its value on one line (the value wraps under itself).
    pub fn field(&mut self, label: &str, value: &str) {
        let lines = wrap(value, 55);
        self.advance(14.0);
        self.put(MARGIN, 8.0, label);
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                self.advance(13.0);
            }
            self.put(MARGIN + 205.0, 10.0, line);
        }
    }

    /// A table row: each cell at its x offset from the margin, in points.
    pub fn row(&mut self, cells: &[(f32, &str)], size: f32) {
        self.advance(size + 5.0);
        for (x, text) in cells {
            self.put(MARGIN + x, size, text);
        }
    }

    pub fn gap(&mut self) {
        self.advance(8.0);
    }

    /// A QR code of `text`, `size` points wide, with a caption beside it (medium error
    /// correction, a quiet zone of four modules as the standard asks).
    pub fn qr(&mut self, text: &str, size: f32, caption: &str) -> Result<()> {
        let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
            .map_err(|e| anyhow!("the QR code cannot hold {} bytes: {e}", text.len()))?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        let module = size / (width + 8) as f32;
        let top = self.y + 6.0;
        self.advance(size + 12.0);
        self.codes.push(Qr {
            page: self.pages.len() - 1,
            x: MARGIN,
            y: top,
            module,
            width,
            dark,
        });
        let lines = wrap(caption, 60);
        let mut y = top + 24.0;
        if let Some(page) = self.pages.last_mut() {
            for line in lines {
                page.push(Item {
                    x: MARGIN + size + 16.0,
                    y,
                    size: 10.0,
                    text: line,
                });
                y += 14.0;
            }
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Vec<u8>> {
        let font =
            Font::new(FONT.into(), 0).ok_or_else(|| anyhow!("the embedded font cannot be read"))?;
        let mut document = Document::new();
        for (index, items) in self.pages.iter().enumerate() {
            let settings =
                PageSettings::from_wh(WIDTH, HEIGHT).ok_or_else(|| anyhow!("A4 page size"))?;
            let mut page = document.start_page_with(settings);
            let mut surface = page.surface();
            for qr in self.codes.iter().filter(|q| q.page == index) {
                let mut path = PathBuilder::new();
                for (i, _) in qr.dark.iter().enumerate().filter(|(_, d)| **d) {
                    let (col, row) = ((i % qr.width) as f32, (i / qr.width) as f32);
                    if let Some(rect) = Rect::from_xywh(
                        qr.x + (col + 4.0) * qr.module,
                        qr.y + (row + 4.0) * qr.module,
                        qr.module,
                        qr.module,
                    ) {
                        path.push_rect(rect);
                    }
                }
                if let Some(path) = path.finish() {
                    surface.set_fill(Some(Fill::default()));
                    surface.draw_path(&path);
                }
            }
            for item in items {
                surface.draw_text(
                    Point::from_xy(item.x, item.y),
                    font.clone(),
                    item.size,
                    &item.text,
                    false,
                    TextDirection::Auto,
                );
            }
            surface.finish();
            page.finish();
        }
        document
            .finish()
            .map_err(|e| anyhow!("writing the PDF: {e:?}"))
    }
}

/// Splits a text into lines of at most `width` characters, at spaces where it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let needed =
                line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
            if needed > width && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            while line.chars().count() > width {
                let head: String = line.chars().take(width).collect();
                let tail: String = line.chars().skip(width).collect();
                lines.push(head);
                line = tail;
            }
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_keeps_every_word_and_respects_the_width() {
        let text =
            "Қазақстан Республикасының тұрғын үй-коммуналдық шаруашылығы туралы өте ұзақ мәтін";
        let lines = wrap(text, 20);
        assert!(lines.iter().all(|l| l.chars().count() <= 20), "{lines:?}");
        assert_eq!(
            lines.join(" ").split_whitespace().collect::<Vec<_>>(),
            text.split_whitespace().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_document_with_kazakh_text_and_the_tenge_sign_is_a_pdf() {
        let mut pdf = Pdf::new();
        pdf.title("Сәйкессіздік туралы акт — ₸");
        for i in 0..80 {
            pdf.text(&format!("Жол {i}: ә ғ қ ң ө ұ ү һ і"));
        }
        let bytes = pdf.finish().unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.len() > 1000);
    }
}
