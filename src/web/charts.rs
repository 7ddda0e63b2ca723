//! The office's charts, drawn on the server as SVG with `plotters`. Each has
//! a `<title>` (and is `role="img"`); the table beside it is the accessible
//! version. Black in the drawing becomes `currentColor`, so the dark theme
//! keeps its contrast. Values too small to show (`None`) leave a gap.
use plotters::prelude::*;

const WIDTH: u32 = 720;
const HEIGHT: u32 = 300;
/// Series colours, each at least 3:1 against white and the dark theme's ground.
const COLOURS: [RGBColor; 4] = [
    RGBColor(0x1f, 0x5f, 0xa8),
    RGBColor(0xb3, 0x59, 0x00),
    RGBColor(0x2e, 0x7d, 0x32),
    RGBColor(0x8e, 0x24, 0xaa),
];

pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<Option<i64>>,
}

/// Lines over time: `labels[i]` names point `i` of every series.
pub fn lines(title: &str, labels: &[String], series: &[Series]) -> String {
    draw(title, |root| {
        let n = labels.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..(n - 1).max(1) as f64, 0f64..top(series))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .x_labels(n.min(8))
            .x_label_formatter(&|x| label_at(labels, *x))
            .y_label_formatter(&whole)
            .label_style(("sans-serif", 14))
            .draw()?;
        for (i, s) in series.iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            let mut named = false;
            for run in runs(&s.values) {
                let drawn = chart.draw_series(LineSeries::new(
                    run.into_iter().map(|(x, y)| (x as f64, y as f64)),
                    colour.stroke_width(3),
                ))?;
                if !named {
                    named = true;
                    drawn.label(s.name).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3))
                    });
                }
            }
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.0))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()?;
        }
        Ok(())
    })
}

/// One bar per label (time buckets or servers).
pub fn bars(title: &str, labels: &[String], values: &[Option<i64>]) -> String {
    let series = [Series {
        name: title,
        values: values.to_vec(),
    }];
    draw(title, |root| {
        let n = labels.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..n as f64, 0f64..top(&series))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .x_labels(n.min(8))
            .x_label_formatter(&|x| label_at(labels, x.floor()))
            .y_label_formatter(&whole)
            .label_style(("sans-serif", 14))
            .draw()?;
        chart.draw_series(values.iter().enumerate().filter_map(|(i, v)| {
            v.map(|v| {
                Rectangle::new(
                    [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, v as f64)],
                    COLOURS[0].filled(),
                )
            })
        }))?;
        Ok(())
    })
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type DrawResult = Result<(), Box<dyn std::error::Error + 'static>>;

fn draw(title: &str, paint: impl FnOnce(Area<'_>) -> DrawResult) -> String {
    let mut svg = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        paint(root.clone()).and_then(|()| root.present().map_err(Into::into))
    };
    if let Err(e) = drawn {
        tracing::warn!(error = %e, title, "chart not drawn");
        return String::new();
    }
    accessible(&svg, title)
}

/// Adds the title and role, and lets black follow the page's text colour.
fn accessible(svg: &str, title: &str) -> String {
    let title = html_escape::encode_text(title);
    let svg = svg.replace("#000000", "currentColor").replacen(
        &format!("<svg width=\"{WIDTH}\" height=\"{HEIGHT}\""),
        "<svg class=\"chart\" role=\"img\"",
        1,
    );
    match svg.find('>') {
        Some(end) => format!("{}><title>{title}</title>{}", &svg[..end], &svg[end + 1..]),
        None => String::new(),
    }
}

/// Counts are whole: a tick between two whole numbers gets no label.
fn whole(y: &f64) -> String {
    if y.fract().abs() < 1e-9 {
        format!("{y:.0}")
    } else {
        String::new()
    }
}

/// The y axis: the largest value shown, with room above; never zero high.
fn top(series: &[Series]) -> f64 {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .copied()
        .max()
        .unwrap_or(0);
    ((max as f64) * 1.1).max(5.0)
}

fn label_at(labels: &[String], x: f64) -> String {
    if x < 0.0 || x.fract() != 0.0 {
        return String::new();
    }
    labels.get(x as usize).cloned().unwrap_or_default()
}

/// Runs of consecutive known values: a line never bridges a hidden one.
fn runs(values: &[Option<i64>]) -> Vec<Vec<(usize, i64)>> {
    let mut out: Vec<Vec<(usize, i64)>> = Vec::new();
    let mut current = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => current.push((i, *v)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_titled_svg_without_fixed_colours_for_text() {
        let labels: Vec<String> = (1..=5).map(|d| format!("12/{d}")).collect();
        let svg = lines(
            "Members <by role>",
            &labels,
            &[
                Series {
                    name: "Alumni",
                    values: vec![Some(10), Some(12), None, Some(15), Some(20)],
                },
                Series {
                    name: "Employees",
                    values: vec![Some(5); 5],
                },
            ],
        );
        assert!(
            svg.starts_with("<svg class=\"chart\" role=\"img\""),
            "{svg}"
        );
        assert!(
            svg.contains("<title>Members &lt;by role&gt;</title>"),
            "{svg}"
        );
        assert!(svg.contains("Alumni") && svg.contains("12/4"), "{svg}");
        assert!(!svg.contains("#000000"));
        // The hidden value splits the alumni line in two.
        assert_eq!(runs(&[Some(1), None, Some(2), Some(3)]).len(), 2);
        let bars = bars(
            "Posts",
            &labels,
            &[Some(3), None, Some(7), Some(0), Some(1)],
        );
        assert!(bars.matches("<rect").count() >= 4, "{bars}");
    }
}
