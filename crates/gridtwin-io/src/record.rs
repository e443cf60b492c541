//! The format-neutral record: one feature of any input file.

use geo::Geometry;

/// A field value as read from any format.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
}

impl Value {
    /// The value as text, as a user would write it in a CSV cell (`None` for null).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Null => None,
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Text(s) if s.trim().is_empty() => None,
            Value::Text(s) => Some(s.trim().to_string()),
        }
    }

    /// The value as a number, if it is one or is text that parses as one.
    pub fn as_f64(&self) -> Result<Option<f64>, String> {
        match self {
            Value::Null => Ok(None),
            Value::Int(i) => Ok(Some(*i as f64)),
            Value::Float(f) => Ok(Some(*f)),
            Value::Bool(b) => Err(format!("`{b}` is not a number")),
            Value::Text(s) if s.trim().is_empty() => Ok(None),
            Value::Text(s) => s
                .trim()
                .parse::<f64>()
                .map(Some)
                .map_err(|_| format!("`{s}` is not a number")),
        }
    }
}

/// Type of a column when writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    Int,
    Float,
    Text,
}

/// One input record: its 1-based number in the file, geometry and fields.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub number: u64,
    pub geometry: Option<Geometry<f64>>,
    pub fields: Vec<(String, Value)>,
}

impl Record {
    /// A field by name (case-insensitive), if present and not null/empty.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .filter(|v| v.as_text().is_some())
    }

    /// The first present field among `names`, as text.
    pub fn text(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|n| self.get(n))
            .and_then(|v| v.as_text())
    }
}

/// The columns and rows of a layer to write. Rows carry values in schema order.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub schema: Vec<(String, FieldType)>,
    pub rows: Vec<(Option<Geometry<f64>>, Vec<Value>)>,
}

impl Table {
    pub fn new(schema: &[(&str, FieldType)]) -> Self {
        Table {
            schema: schema.iter().map(|(n, t)| (n.to_string(), *t)).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, geometry: Option<Geometry<f64>>, values: Vec<Value>) {
        debug_assert_eq!(values.len(), self.schema.len());
        self.rows.push((geometry, values));
    }
}
