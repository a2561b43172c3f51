//! Reading the PyTorch parity fixtures in `tests/fixtures/` (written by
//! `tools/make_fixtures.py`): safetensors files with `input.*`, `param.*`,
//! `output.*`, `upstream` and `grad.*` tensors, and the case's settings as
//! metadata.

use resgrad::Tensor;
use safetensors::{Dtype, SafeTensors};
use std::collections::BTreeMap;

/// One fixture file, decoded.
pub struct Fixture {
    pub name: String,
    floats: BTreeMap<String, Tensor>,
    ints: BTreeMap<String, Vec<i64>>,
    pub meta: BTreeMap<String, String>,
}

impl Fixture {
    /// Loads `tests/fixtures/<name>.safetensors`.
    pub fn load(name: &str) -> Fixture {
        let path =
            format!("{}/tests/fixtures/{name}.safetensors", env!("CARGO_MANIFEST_DIR"));
        let bytes =
            std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        let file = SafeTensors::deserialize(&bytes)
            .unwrap_or_else(|e| panic!("{path} is damaged: {e:?}"));
        let (_, header) =
            SafeTensors::read_metadata(&bytes).expect("header was just parsed");
        let meta = header
            .metadata()
            .clone()
            .map(|m| m.into_iter().collect())
            .unwrap_or_default();
        let (mut floats, mut ints) = (BTreeMap::new(), BTreeMap::new());
        for (key, view) in file.tensors() {
            let shape = view.shape().to_vec();
            match view.dtype() {
                Dtype::F32 => {
                    let data = view
                        .data()
                        .chunks_exact(4)
                        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                        .collect();
                    floats.insert(key, Tensor::from_vec(data, shape));
                }
                Dtype::I64 => {
                    let data = view
                        .data()
                        .chunks_exact(8)
                        .map(|b| i64::from_le_bytes(b.try_into().unwrap()))
                        .collect();
                    ints.insert(key, data);
                }
                other => panic!(
                    "{path}: tensor {key} has dtype {other:?}; fixtures hold F32 and I64"
                ),
            }
        }
        Fixture { name: name.to_string(), floats, ints, meta }
    }

    /// An f32 tensor by name.
    #[track_caller]
    pub fn t(&self, key: &str) -> Tensor {
        self.floats
            .get(key)
            .cloned()
            .unwrap_or_else(|| panic!("fixture {}: no tensor {key}", self.name))
    }

    /// An int64 tensor by name, as indices.
    #[track_caller]
    pub fn indices(&self, key: &str) -> Vec<usize> {
        let v = self
            .ints
            .get(key)
            .unwrap_or_else(|| panic!("fixture {}: no int tensor {key}", self.name));
        v.iter().map(|&i| usize::try_from(i).expect("non-negative index")).collect()
    }

    /// Names of the tensors under a prefix, with the prefix removed
    /// (`params_named("param.")` gives the state_dict keys).
    pub fn names_under(&self, prefix: &str) -> Vec<String> {
        self.floats
            .keys()
            .filter_map(|k| k.strip_prefix(prefix).map(str::to_string))
            .collect()
    }

    /// A metadata entry.
    #[track_caller]
    pub fn meta(&self, key: &str) -> &str {
        self.meta
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("fixture {}: no metadata {key}", self.name))
    }
}
