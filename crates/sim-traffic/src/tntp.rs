//! Parsers for the TNTP text formats of the Transportation Networks for Research collection
//! (`_net.tntp`, `_trips.tntp`, `_flow.tntp`).
//!
//! The parsers work on text already read by the caller (who adds the file name to errors).
//! Node numbers in the files are 1-based; the results are 0-based. Every problem is reported
//! as [`TrafficError::Parse`] with the 1-based line number; no input makes them panic.

use crate::error::TrafficError;
use crate::network::{Demand, LinkSpec, Network};

/// The metadata block of a `_net.tntp` file, as written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TntpNetMeta {
    /// `<NUMBER OF ZONES>`.
    pub zones: usize,
    /// `<NUMBER OF NODES>`.
    pub nodes: usize,
    /// `<FIRST THRU NODE>`, 1-based as in the file (the network's `first_thru_node` is one
    /// less).
    pub first_thru_node: u32,
    /// `<NUMBER OF LINKS>`.
    pub links: usize,
}

/// The largest node count accepted from a file (guards against absurd allocations).
const MAX_NODES: usize = 1 << 26;

fn perr(line: usize, message: impl Into<String>) -> TrafficError {
    TrafficError::Parse {
        line,
        message: message.into(),
    }
}

/// The text of a line without its `~` comment, trimmed.
fn strip_comment(line: &str) -> &str {
    match line.find('~') {
        Some(i) => line[..i].trim(),
        None => line.trim(),
    }
}

/// `<KEY> value` → (`KEY`, `value`), or `None` when the line is not a metadata tag.
fn metadata_tag(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    let rest = t.strip_prefix('<')?;
    let end = rest.find('>')?;
    Some((rest[..end].trim(), rest[end + 1..].trim()))
}

/// Reads the metadata block: calls `tag` for each `<KEY> value` line (value without comment)
/// and returns the index (0-based) of the line after `<END OF METADATA>`.
fn read_metadata<'a>(
    lines: &[&'a str],
    mut tag: impl FnMut(usize, &str, &'a str) -> Result<(), TrafficError>,
) -> Result<usize, TrafficError> {
    for (i, raw) in lines.iter().enumerate() {
        let line_no = i + 1;
        let t = raw.trim();
        if t.is_empty() || t.starts_with('~') {
            continue;
        }
        match metadata_tag(t) {
            Some((key, value)) => {
                if key.eq_ignore_ascii_case("END OF METADATA") {
                    return Ok(i + 1);
                }
                tag(line_no, key, strip_comment(value))?;
            }
            None => {
                return Err(perr(
                    line_no,
                    format!("expected a <TAG> metadata line or <END OF METADATA>, found {t:?}"),
                ));
            }
        }
    }
    Err(perr(
        lines.len().max(1),
        "missing <END OF METADATA> (file truncated?)",
    ))
}

fn parse_count(line: usize, key: &str, value: &str) -> Result<usize, TrafficError> {
    let v: f64 = value
        .parse()
        .map_err(|_| perr(line, format!("<{key}> {value:?} is not a number")))?;
    if !(v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= u32::MAX as f64 - 1.0) {
        return Err(perr(
            line,
            format!("<{key}> {value:?} must be a non-negative integer"),
        ));
    }
    Ok(v as usize)
}

fn parse_f64(line: usize, what: &str, s: &str) -> Result<f64, TrafficError> {
    let v: f64 = s
        .parse()
        .map_err(|_| perr(line, format!("{what} {s:?} is not a number")))?;
    if v.is_nan() {
        return Err(perr(line, format!("{what} is NaN")));
    }
    Ok(v)
}

/// A 1-based node number in `1..=count`, returned 0-based.
fn parse_node(line: usize, what: &str, s: &str, count: usize) -> Result<u32, TrafficError> {
    let v = parse_f64(line, what, s)?;
    if !(v.fract() == 0.0 && v >= 1.0 && v <= count as f64) {
        return Err(perr(
            line,
            format!("{what} {s} is out of range (nodes are 1..={count})"),
        ));
    }
    Ok(v as u32 - 1)
}

/// Parse a `_net.tntp` file: metadata (`<NUMBER OF ZONES>`, `<NUMBER OF NODES>`,
/// `<FIRST THRU NODE>`, `<NUMBER OF LINKS>`, `<END OF METADATA>`; other tags ignored) and one
/// row per link `init_node term_node capacity length free_flow_time b power speed toll
/// link_type ;` (trailing `;` optional). Lanes are set to 1.
pub fn parse_net(text: &str) -> Result<(Network, TntpNetMeta), TrafficError> {
    let lines: Vec<&str> = text.lines().collect();
    let (mut zones, mut nodes, mut ftn, mut nlinks) = (None, None, None, None);
    let body = read_metadata(&lines, |line, key, value| {
        let k = key.to_ascii_uppercase();
        match k.as_str() {
            "NUMBER OF ZONES" => zones = Some(parse_count(line, key, value)?),
            "NUMBER OF NODES" => nodes = Some(parse_count(line, key, value)?),
            "FIRST THRU NODE" => ftn = Some(parse_count(line, key, value)?),
            "NUMBER OF LINKS" => nlinks = Some(parse_count(line, key, value)?),
            _ => {}
        }
        Ok(())
    })?;
    let missing = |what: &str| perr(body.max(1), format!("metadata <{what}> is missing"));
    let zones = zones.ok_or_else(|| missing("NUMBER OF ZONES"))?;
    let nodes = nodes.ok_or_else(|| missing("NUMBER OF NODES"))?;
    let ftn = ftn.ok_or_else(|| missing("FIRST THRU NODE"))?;
    let nlinks = nlinks.ok_or_else(|| missing("NUMBER OF LINKS"))?;
    if nodes > MAX_NODES {
        return Err(perr(
            body,
            format!("<NUMBER OF NODES> {nodes} is implausibly large (limit {MAX_NODES})"),
        ));
    }
    if zones > nodes {
        return Err(perr(
            body,
            format!("<NUMBER OF ZONES> {zones} exceeds <NUMBER OF NODES> {nodes}"),
        ));
    }
    if ftn > nodes + 1 {
        return Err(perr(
            body,
            format!("<FIRST THRU NODE> {ftn} is beyond the {nodes} nodes"),
        ));
    }
    let mut links = Vec::with_capacity(nlinks.min(1 << 20));
    for (i, raw) in lines.iter().enumerate().skip(body) {
        let line = i + 1;
        let t = strip_comment(raw);
        let t = t.strip_suffix(';').unwrap_or(t).trim();
        if t.is_empty() {
            continue;
        }
        let cols: Vec<&str> = t.split_whitespace().collect();
        if cols.len() != 10 {
            return Err(perr(
                line,
                format!(
                    "a link row needs 10 columns (init_node term_node capacity length \
                     free_flow_time b power speed toll link_type), found {}",
                    cols.len()
                ),
            ));
        }
        if links.len() == nlinks {
            return Err(perr(
                line,
                format!("more link rows than <NUMBER OF LINKS> {nlinks}"),
            ));
        }
        let from = parse_node(line, "init_node", cols[0], nodes)?;
        let to = parse_node(line, "term_node", cols[1], nodes)?;
        let capacity = parse_f64(line, "capacity", cols[2])?;
        let length = parse_f64(line, "length", cols[3])?;
        let free_flow_time = parse_f64(line, "free_flow_time", cols[4])?;
        let b = parse_f64(line, "b", cols[5])?;
        let power = parse_f64(line, "power", cols[6])?;
        let _speed = parse_f64(line, "speed", cols[7])?;
        let toll = parse_f64(line, "toll", cols[8])?;
        let link_type = parse_f64(line, "link_type", cols[9])?;
        let nonneg = |v: f64, what: &str| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(perr(
                    line,
                    format!("{what} {v} must be finite and not negative"),
                ))
            }
        };
        if !(capacity.is_finite() && capacity > 0.0) {
            return Err(perr(line, format!("capacity {capacity} must be positive")));
        }
        nonneg(length, "length")?;
        nonneg(free_flow_time, "free_flow_time")?;
        nonneg(b, "b")?;
        nonneg(power, "power")?;
        if !toll.is_finite() {
            return Err(perr(line, format!("toll {toll} must be finite")));
        }
        if !(link_type.fract() == 0.0 && (0.0..=255.0).contains(&link_type)) {
            return Err(perr(
                line,
                format!("link_type {link_type} must be an integer 0..=255"),
            ));
        }
        links.push(LinkSpec {
            from,
            to,
            capacity,
            length,
            free_flow_time,
            b,
            power,
            toll,
            link_type: link_type as u8,
            lanes: 1.0,
        });
    }
    if links.len() != nlinks {
        return Err(perr(
            lines.len().max(1),
            format!(
                "<NUMBER OF LINKS> is {nlinks} but the file has {} link rows",
                links.len()
            ),
        ));
    }
    let first_thru = ftn.saturating_sub(1) as u32;
    let net = Network::new(nodes, first_thru, &links).map_err(|e| perr(body, e.to_string()))?;
    Ok((
        net,
        TntpNetMeta {
            zones,
            nodes,
            first_thru_node: ftn as u32,
            links: nlinks,
        },
    ))
}

/// Parse a `_trips.tntp` file: metadata (`<NUMBER OF ZONES>` and `<TOTAL OD FLOW>` optional,
/// `<END OF METADATA>` required), then `Origin k` lines each followed by `d : flow;`
/// entries, any number per line. Origins and destinations must be zones (`1..=zones`) when
/// the zone count is given, nodes of the network (`1..=node_count`) always. The sum of all
/// entries (intrazonal ones included) must match `<TOTAL OD FLOW>` within 1e-6 relative.
pub fn parse_trips(text: &str, node_count: usize) -> Result<Demand, TrafficError> {
    let lines: Vec<&str> = text.lines().collect();
    let (mut zones, mut total) = (None, None);
    let body = read_metadata(&lines, |line, key, value| {
        let k = key.to_ascii_uppercase();
        match k.as_str() {
            "NUMBER OF ZONES" => zones = Some(parse_count(line, key, value)?),
            "TOTAL OD FLOW" => {
                let v = parse_f64(line, "<TOTAL OD FLOW>", value)?;
                if !(v.is_finite() && v >= 0.0) {
                    return Err(perr(line, format!("<TOTAL OD FLOW> {v} must be finite")));
                }
                total = Some((line, v));
            }
            _ => {}
        }
        Ok(())
    })?;
    let limit = zones.unwrap_or(node_count).min(node_count);
    let what_limit = if zones.is_some_and(|z| z <= node_count) {
        "zones"
    } else {
        "nodes"
    };
    let mut od = Vec::new();
    let mut origin: Option<u32> = None;
    let mut sum = 0.0;
    for (i, raw) in lines.iter().enumerate().skip(body) {
        let line = i + 1;
        let t = strip_comment(raw);
        if t.is_empty() {
            continue;
        }
        if let Some(rest) = t.strip_prefix("Origin") {
            let r = rest.trim();
            let r = r.strip_suffix(';').unwrap_or(r).trim();
            let o = parse_f64(line, "origin", r)?;
            if !(o.fract() == 0.0 && o >= 1.0 && o <= limit as f64) {
                return Err(perr(
                    line,
                    format!("origin {r} is out of range ({what_limit} are 1..={limit})"),
                ));
            }
            origin = Some(o as u32 - 1);
            continue;
        }
        let Some(o) = origin else {
            return Err(perr(
                line,
                format!("expected an \"Origin k\" line, found {t:?}"),
            ));
        };
        for entry in t.split(';') {
            let e = entry.trim();
            if e.is_empty() {
                continue;
            }
            let Some((d, f)) = e.split_once(':') else {
                return Err(perr(
                    line,
                    format!("expected \"destination : flow;\", found {e:?}"),
                ));
            };
            let (d, f) = (d.trim(), f.trim());
            let dv = parse_f64(line, "destination", d)?;
            if !(dv.fract() == 0.0 && dv >= 1.0 && dv <= limit as f64) {
                return Err(perr(
                    line,
                    format!("destination {d} is out of range ({what_limit} are 1..={limit})"),
                ));
            }
            let fv = parse_f64(line, "flow", f)?;
            if !(fv.is_finite() && fv >= 0.0) {
                return Err(perr(
                    line,
                    format!("flow {f} must be finite and not negative"),
                ));
            }
            sum += fv;
            od.push((o, dv as u32 - 1, fv));
        }
    }
    if let Some((line, t)) = total
        && (sum - t).abs() > 1e-6 * t.abs().max(1.0)
    {
        return Err(perr(
            line,
            format!("<TOTAL OD FLOW> is {t} but the entries sum to {sum}"),
        ));
    }
    Demand::from_triples(node_count, od).map_err(|e| perr(body.max(1), e.to_string()))
}

/// Parse a `_flow.tntp` solution file: a header line (`From To Volume Cost`) and rows
/// `from to volume cost` (trailing `;` optional). Returns `(from, to, volume, cost)` with the
/// nodes 0-based, in file order.
pub fn parse_flow(text: &str) -> Result<Vec<(u32, u32, f64, f64)>, TrafficError> {
    let mut out = Vec::new();
    let mut header_seen = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let t = strip_comment(raw);
        let t = t.strip_suffix(';').unwrap_or(t).trim();
        if t.is_empty() {
            continue;
        }
        if !header_seen {
            header_seen = true;
            if t.split_whitespace()
                .next()
                .is_some_and(|w| w.eq_ignore_ascii_case("from"))
            {
                continue;
            }
        }
        let cols: Vec<&str> = t.split_whitespace().collect();
        if cols.len() != 4 {
            return Err(perr(
                line,
                format!(
                    "a flow row needs 4 columns (from to volume cost), found {}",
                    cols.len()
                ),
            ));
        }
        let from = parse_node(line, "from", cols[0], u32::MAX as usize)?;
        let to = parse_node(line, "to", cols[1], u32::MAX as usize)?;
        let v = parse_f64(line, "volume", cols[2])?;
        let c = parse_f64(line, "cost", cols[3])?;
        if !(v.is_finite() && c.is_finite()) {
            return Err(perr(line, "volume and cost must be finite"));
        }
        out.push((from, to, v, c));
    }
    if !header_seen {
        return Err(perr(1, "empty flow file"));
    }
    Ok(out)
}

/// An OD CSV: a header line, then `origin,destination,flow` rows with TNTP node numbers
/// (1-based). Blank lines and lines starting with `#` are skipped; equal pairs are summed.
pub fn parse_od_csv(text: &str, node_count: usize) -> Result<Demand, TrafficError> {
    let mut od = Vec::new();
    let mut header = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        if !header {
            header = true;
            if cols.first().is_some_and(|c| c.parse::<f64>().is_err()) {
                continue;
            }
        }
        let err = |message: String| TrafficError::Parse {
            line: i + 1,
            message,
        };
        if cols.len() != 3 {
            return Err(err(format!(
                "expected origin,destination,flow, got {} columns",
                cols.len()
            )));
        }
        let node = |c: &str, what: &str| -> Result<u32, TrafficError> {
            let v: u64 = c
                .parse()
                .map_err(|_| err(format!("{what} `{c}` is not a node number")))?;
            if v == 0 || v as usize > node_count {
                return Err(err(format!(
                    "{what} {v} is not a node of the network (1..={node_count})"
                )));
            }
            Ok(v as u32 - 1)
        };
        let o = node(cols[0], "origin")?;
        let d = node(cols[1], "destination")?;
        let f: f64 = cols[2]
            .parse()
            .map_err(|_| err(format!("flow `{}` is not a number", cols[2])))?;
        if !(f.is_finite() && f >= 0.0) {
            return Err(err(format!("flow {f} must be finite and not negative")));
        }
        od.push((o, d, f));
    }
    Demand::from_triples(node_count, od)
}

#[cfg(test)]
mod tests {
    #[test]
    fn od_csv() {
        let d = super::parse_od_csv("origin,destination,flow\n1,2,5\n# c\n1,2,1.5\n2,1,3\n", 3)
            .unwrap();
        assert_eq!(d.total(), 9.5);
        assert_eq!(d.of(0), (&[1u32][..], &[6.5][..]));
        for bad in [
            "o,d,f\n1,4,1\n",
            "o,d,f\n1,2\n",
            "o,d,f\n1,2,x\n",
            "o,d,f\n0,2,1\n",
            "o,d,f\n1,2,-1\n",
        ] {
            let e = super::parse_od_csv(bad, 3).unwrap_err().to_string();
            assert!(e.starts_with("line 2:"), "{bad:?}: {e}");
        }
    }
    use super::*;

    const NET: &str = "<NUMBER OF ZONES> 2\n<NUMBER OF NODES> 3\n<FIRST THRU NODE> 3\n\
        <NUMBER OF LINKS> 3\n<ORIGINAL HEADER>~ stuff\n<END OF METADATA>\n\n\
        ~ init term cap len fft b power speed toll type ;\n\
        \t1\t3\t100\t1\t2\t0.15\t4\t0\t0\t1\t;\n\
        3 2 200.5 2 3 0.15 4 0 1.5 2\n\
        \t2\t3\t100\t1\t2\t0.15\t4\t0\t0\t1\t;\n";

    const TRIPS: &str = "<NUMBER OF ZONES> 2\n<TOTAL OD FLOW> 30.0\n<END OF METADATA>\n\n\
        Origin 1\n  1 : 0.0;   2 : 10.0;\nOrigin \t2\n    1 :   20.0; \n";

    #[test]
    fn parses_small_net_and_trips() {
        let (net, meta) = parse_net(NET).unwrap();
        assert_eq!(
            meta,
            TntpNetMeta {
                zones: 2,
                nodes: 3,
                first_thru_node: 3,
                links: 3
            }
        );
        assert_eq!(net.node_count, 3);
        assert_eq!(net.first_thru_node, 2);
        assert_eq!(net.from, vec![0, 2, 1]);
        assert_eq!(net.to, vec![2, 1, 2]);
        assert_eq!(net.capacity[1], 200.5);
        assert_eq!(net.toll[1], 1.5);
        assert_eq!(net.link_type[1], 2);
        assert_eq!(net.lanes, vec![1.0; 3]);
        let d = parse_trips(TRIPS, 3).unwrap();
        assert_eq!(d.origins, vec![0, 1]);
        assert_eq!(d.dest, vec![1, 0]);
        assert_eq!(d.flow, vec![10.0, 20.0]);
    }

    fn line_of(e: TrafficError) -> usize {
        match e {
            TrafficError::Parse { line, .. } => line,
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn net_errors_name_the_line() {
        let bad_cols = NET.replace("3 2 200.5 2 3 0.15 4 0 1.5 2", "3 2 200.5 2 3 0.15 4 0 1.5");
        assert_eq!(line_of(parse_net(&bad_cols).unwrap_err()), 10);
        let bad_num = NET.replace("200.5", "2x0");
        assert_eq!(line_of(parse_net(&bad_num).unwrap_err()), 10);
        let nan = NET.replace("200.5", "NaN");
        assert_eq!(line_of(parse_net(&nan).unwrap_err()), 10);
        let range = NET.replace("3 2 200.5", "4 2 200.5");
        assert_eq!(line_of(parse_net(&range).unwrap_err()), 10);
        let zero_cap = NET.replace("200.5", "0");
        assert_eq!(line_of(parse_net(&zero_cap).unwrap_err()), 10);
        let count = NET.replace("<NUMBER OF LINKS> 3", "<NUMBER OF LINKS> 4");
        assert!(
            parse_net(&count)
                .unwrap_err()
                .to_string()
                .contains("NUMBER OF LINKS")
        );
        let fewer = NET.replace("<NUMBER OF LINKS> 3", "<NUMBER OF LINKS> 2");
        assert_eq!(line_of(parse_net(&fewer).unwrap_err()), 11);
        let no_nodes = NET.replace("<NUMBER OF NODES> 3\n", "");
        assert!(
            parse_net(&no_nodes)
                .unwrap_err()
                .to_string()
                .contains("NUMBER OF NODES")
        );
        let no_end = NET.replace("<END OF METADATA>", "");
        assert!(parse_net(&no_end).is_err());
        let bad_meta = NET.replace("<NUMBER OF NODES> 3", "<NUMBER OF NODES> three");
        assert_eq!(line_of(parse_net(&bad_meta).unwrap_err()), 2);
    }

    #[test]
    fn trips_errors() {
        let total = TRIPS.replace("30.0", "31.0");
        assert_eq!(line_of(parse_trips(&total, 3).unwrap_err()), 2);
        let no_origin = TRIPS.replace("Origin 1\n", "");
        assert_eq!(line_of(parse_trips(&no_origin, 3).unwrap_err()), 5);
        let bad_dest = TRIPS.replace("2 : 10.0", "3 : 10.0");
        assert_eq!(line_of(parse_trips(&bad_dest, 3).unwrap_err()), 6);
        let bad_entry = TRIPS.replace("2 : 10.0", "2 10.0");
        assert_eq!(line_of(parse_trips(&bad_entry, 3).unwrap_err()), 6);
        let neg = TRIPS.replace("2 : 10.0", "2 : -10.0");
        assert_eq!(line_of(parse_trips(&neg, 3).unwrap_err()), 6);
        let nan = TRIPS.replace("2 : 10.0", "2 : nan");
        assert_eq!(line_of(parse_trips(&nan, 3).unwrap_err()), 6);
    }

    #[test]
    fn flow_file() {
        let f = parse_flow("From \tTo \tVolume \tCost \n1 \t2 \t4.5 \t6.0 \n2 3 1 2;\n").unwrap();
        assert_eq!(f, vec![(0, 1, 4.5, 6.0), (1, 2, 1.0, 2.0)]);
        assert!(parse_flow("From To Volume Cost\n1 2 x 3\n").is_err());
        assert!(parse_flow("From To Volume Cost\n0 2 1 3\n").is_err());
        assert!(parse_flow("").is_err());
    }

    #[test]
    fn never_panics_on_prefixes_and_garbage() {
        for text in [NET, TRIPS] {
            for (i, _) in text.char_indices() {
                let p = &text[..i];
                let _ = parse_net(p);
                let _ = parse_trips(p, 3);
                let _ = parse_flow(p);
            }
        }
        let garbage = [
            "",
            "\n\n",
            "<",
            "<>",
            "<END OF METADATA",
            "<NUMBER OF NODES> -1\n<END OF METADATA>",
            "<NUMBER OF NODES> 1e300\n<END OF METADATA>",
            "<NUMBER OF ZONES> 1\n<NUMBER OF NODES> 1\n<FIRST THRU NODE> 99\n<NUMBER OF LINKS> 0\n<END OF METADATA>",
            "<NUMBER OF ZONES> 1\n<NUMBER OF NODES> 2\n<FIRST THRU NODE> 1\n<NUMBER OF LINKS> 1\n<END OF METADATA>\n1 2 1 1 1 1 1e400 1 1 1",
            "<NUMBER OF ZONES> 1\n<NUMBER OF NODES> 2\n<FIRST THRU NODE> 1\n<NUMBER OF LINKS> 1\n<END OF METADATA>\n1.5 2 1 1 1 1 1 1 1 1",
            "Origin 1\n1:1;",
            "<END OF METADATA>\nOrigin\n",
            "<END OF METADATA>\nOrigin 99999999999999999999\n",
            "<END OF METADATA>\nOrigin 1\n:;::;;1:2:3",
            "\u{feff}\u{0}~;;;<<>>",
            "From To\n1 2 3 4 5",
        ];
        for g in garbage {
            let _ = parse_net(g);
            let _ = parse_trips(g, 2);
            let _ = parse_trips(g, 0);
            let _ = parse_flow(g);
        }
    }
}
