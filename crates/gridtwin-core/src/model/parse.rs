//! Why a name did not parse as one of a closed set of values (a status, a kind, a
//! routing rule, a coordinate system…): one error type for every such `FromStr`, so
//! callers can match on it, and its text names the value given and the ones allowed.

use thiserror::Error;

/// A value that is not one of the names an enum accepts.
///
/// ```
/// use gridtwin_core::ComponentStatus;
/// let e = "broken".parse::<ComponentStatus>().unwrap_err();
/// assert_eq!(e.what, "status");
/// assert_eq!(
///     e.to_string(),
///     "unknown status `broken` (expected in_service, damaged, missing or removed)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown {what} `{given}` (expected {expected})")]
pub struct ParseEnumError {
    /// What was being parsed (`status`, `kind`, `routing`, …).
    pub what: &'static str,
    /// The text given (trimmed where the parser trims it).
    pub given: String,
    /// The names accepted, as a sentence fragment (`working or natural`).
    pub expected: &'static str,
}

impl ParseEnumError {
    pub(crate) fn new(what: &'static str, given: &str, expected: &'static str) -> Self {
        ParseEnumError {
            what,
            given: given.to_string(),
            expected,
        }
    }
}

/// Callers that collect messages as `String`s keep using `?`.
impl From<ParseEnumError> for String {
    fn from(e: ParseEnumError) -> String {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use crate::coord::LonLatSystem;
    use crate::{CategoryKind, ComponentStatus, IntakeSource, Routing, TimeBasis};

    #[test]
    fn messages_name_the_value_given_and_the_names_allowed() {
        let cases = [
            (
                " broken ".parse::<ComponentStatus>().unwrap_err(),
                "unknown status `broken` (expected in_service, damaged, missing or removed)",
            ),
            (
                "place".parse::<CategoryKind>().unwrap_err(),
                "unknown kind `place` (expected component or event)",
            ),
            (
                "mayor".parse::<Routing>().unwrap_err(),
                "unknown routing `mayor` (expected owner, territory, negotiated or designated)",
            ),
            (
                "lunar".parse::<TimeBasis>().unwrap_err(),
                "unknown time basis `lunar` (expected working or natural)",
            ),
            (
                "fax".parse::<IntakeSource>().unwrap_err(),
                "unknown source `fax` (expected patrol, hotline or sensor)",
            ),
            (
                "UTM-51".parse::<LonLatSystem>().unwrap_err(),
                "unknown coordinate system `UTM-51` (expected wgs84, gcj02 or bd09)",
            ),
        ];
        for (e, text) in cases {
            assert_eq!(e.to_string(), text);
            assert_eq!(String::from(e), text);
        }
    }
}
