//! Reading figures that may be NaN. JSON has no NaN, so serde_json writes one as `null`; these
//! read `null` back as NaN, so that every estimate that can be written can be read again (an
//! empty sample's summary included). The schema says `number | null` accordingly.

use serde::{Deserialize, Deserializer};

pub fn number<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

pub fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<[f64; 4], D::Error> {
    let read = <[Option<f64>; 4]>::deserialize(d)?;
    Ok(read.map(|x| x.unwrap_or(f64::NAN)))
}

/// A required `number | null` (a plain `Option<f64>` would make the key optional).
pub fn number_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["number", "null"], "format": "double" })
}

pub fn numbers_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": { "type": ["number", "null"], "format": "double" },
        "minItems": 4,
        "maxItems": 4
    })
}
