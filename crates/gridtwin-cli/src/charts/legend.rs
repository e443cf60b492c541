//! The house look of a chart: font sizes for slides, the frame (caption, margins,
//! label areas) every chart shares, and the legend strip below a chart so it never
//! covers the data.

use anyhow::{anyhow, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Font sizes: legible when a 960-pixel chart fills a third of a slide.
pub const CAPTION: u32 = 22;
pub const LABEL: u32 = 15;
pub const DESC: u32 = 16;

/// A chart builder with the house frame: the caption at slide size, room on the
/// right for the last tick label, and label areas wide enough for counts in thousands.
pub fn frame<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(caption, ("sans-serif", CAPTION))
        .margin(12)
        .margin_right(28)
        .x_label_area_size(48)
        .y_label_area_size(64);
    builder
}

/// A legend strip below a chart: one line per series (colour, then name), then an
/// optional note in grey.
pub fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, bool)],
    note: Option<&str>,
) -> Result<()>
where
    DB::ErrorType: 'static,
{
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("{x:?}");
    let line_h = 22;
    let mut y = 6;
    for (name, color, band) in entries {
        let mid = y + line_h / 2;
        if *band {
            area.draw(&Rectangle::new(
                [(24, mid - 7), (56, mid + 7)],
                color.mix(0.2).filled(),
            ))
            .map_err(e)?;
        }
        area.draw(&PathElement::new(
            vec![(24, mid), (56, mid)],
            color.stroke_width(3),
        ))
        .map_err(e)?;
        area.draw(&Text::new(
            name.clone(),
            (66, mid),
            TextStyle::from(("sans-serif", LABEL + 1).into_font()).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                ),
            ),
        ))
        .map_err(e)?;
        y += line_h;
    }
    if let Some(note) = note {
        area.draw(&Text::new(
            note.to_string(),
            (24, y + line_h / 2),
            ("sans-serif", LABEL)
                .into_font()
                .color(&RGBColor(90, 90, 90))
                .pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
        ))
        .map_err(e)?;
    }
    Ok(())
}

/// The height of a legend strip of `lines` lines.
pub fn legend_height(lines: usize) -> u32 {
    12 + 22 * lines as u32
}
