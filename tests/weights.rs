//! Weights in and out: saving and loading round-trip bit for bit, loading
//! is strict (every missing, extra, misshapen or non-f32 tensor is reported
//! by name with both sides' shapes) and atomic (on any error the store is
//! unchanged), and no input bytes, however damaged, make it panic.

#![cfg(feature = "safetensors")]

mod common;

use proptest::prelude::*;
use resgrad::io::{Problem, WeightsError, load_file, read_metadata, read_tensors};
use resgrad::nn::{LayerNorm, Linear, Params};
use resgrad::{Rng, Shape};
use safetensors::Dtype;
use safetensors::tensor::TensorView;
use std::path::PathBuf;

/// A small model: `a.weight` [2, 3], `a.bias` [2], `norm.weight` [2], `norm.bias` [2].
fn model(seed: u64) -> Params {
    let mut params = Params::new();
    let mut rng = Rng::new(seed);
    Linear::new(&mut params.scope("a"), 3, 2, true, &mut rng);
    LayerNorm::new(&mut params.scope("norm"), 2);
    // LayerNorm starts at ones and zeros whatever the seed; make it differ too.
    for (_, p) in params.iter_mut() {
        if p.name.starts_with("norm.") {
            for v in std::sync::Arc::make_mut(&mut p.value).data_mut() {
                *v += rng.normal();
            }
        }
    }
    params
}

/// Every name, shape and value bit of a store, to compare before and after.
fn snapshot(params: &Params) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    params
        .iter()
        .map(|(_, p)| {
            (
                p.name.clone(),
                p.value.dims().to_vec(),
                p.value.data().iter().map(|v| v.to_bits()).collect(),
            )
        })
        .collect()
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A file written by hand: `(name, dtype, shape, raw bytes)` per tensor.
fn file(tensors: &[(&str, Dtype, &[usize], Vec<u8>)]) -> Vec<u8> {
    let views: Vec<(&str, TensorView<'_>)> = tensors
        .iter()
        .map(|(name, dtype, shape, bytes)| {
            (*name, TensorView::new(*dtype, shape.to_vec(), bytes).unwrap())
        })
        .collect();
    safetensors::serialize(views, None).unwrap()
}

/// An f32 file holding `(name, shape)` tensors filled with 0.5.
fn f32_file(tensors: &[(&str, &[usize])]) -> Vec<u8> {
    let full: Vec<(&str, Dtype, &[usize], Vec<u8>)> = tensors
        .iter()
        .map(|(name, shape)| {
            (*name, Dtype::F32, *shape, f32_bytes(&vec![0.5; shape.iter().product()]))
        })
        .collect();
    file(&full)
}

/// The four tensors `model` has, with their shapes.
const MODEL: [(&str, &[usize]); 4] =
    [("a.weight", &[2, 3]), ("a.bias", &[2]), ("norm.weight", &[2]), ("norm.bias", &[2])];

/// A raw file: 8-byte length, the header as given, then `data`.
fn raw(header: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    bytes
}

/// Loads `bytes` into `params`, asserts that it fails and changes nothing,
/// and returns the error.
#[track_caller]
fn load_fails(params: &mut Params, bytes: &[u8]) -> WeightsError {
    let before = snapshot(params);
    let err = params.load_safetensors_bytes(bytes).expect_err("loading should fail");
    assert_eq!(snapshot(params), before, "a failed load changed the store");
    err
}

#[track_caller]
fn problems(err: &WeightsError) -> &[Problem] {
    match err {
        WeightsError::Mismatch { problems, .. } => problems,
        other => panic!("expected a Mismatch, got: {other}"),
    }
}

#[track_caller]
fn assert_damaged(err: &WeightsError) {
    assert!(matches!(err, WeightsError::Damaged { .. }), "expected Damaged, got: {err}");
}

/// A path in the temp directory no other test (or run) uses at the same time.
fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir()
        .join(format!("resgrad-weights-{}-{name}.safetensors", std::process::id()))
}

#[test]
fn saving_then_loading_round_trips_every_bit() {
    let mut saved = model(1);
    // Values whose bits an f32 -> f32 path must not disturb.
    let specials = [
        f32::from_bits(0x7fc0_1234),
        -0.0,
        f32::INFINITY,
        f32::from_bits(1),
        f32::MIN_POSITIVE,
        -1.5e-40,
    ];
    let w = saved.find("a.weight").unwrap();
    saved.get_mut(w).data_mut().copy_from_slice(&specials);

    let mut loaded = model(2);
    assert_ne!(snapshot(&loaded), snapshot(&saved));
    loaded.load_safetensors_bytes(&saved.to_safetensors_bytes()).unwrap();
    assert_eq!(snapshot(&loaded), snapshot(&saved));
}

#[test]
fn an_empty_store_round_trips() {
    let bytes = Params::new().to_safetensors_bytes();
    Params::new().load_safetensors_bytes(&bytes).unwrap();
    assert!(read_tensors(&bytes).unwrap().is_empty());
}

#[test]
fn the_file_holds_little_endian_f32_under_state_dict_names_and_the_pt_format() {
    let params = model(3);
    let bytes = params.to_safetensors_bytes();

    let parsed = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let w = parsed.tensor("a.weight").unwrap();
    assert_eq!(w.dtype(), Dtype::F32);
    assert_eq!(w.shape(), &[2, 3]);
    assert_eq!(
        w.data(),
        f32_bytes(params.get(params.find("a.weight").unwrap()).data()).as_slice()
    );

    let meta = read_metadata(&bytes).unwrap();
    assert_eq!(
        meta.into_iter().collect::<Vec<_>>(),
        [("format".to_string(), "pt".to_string())]
    );
}

#[test]
fn read_tensors_returns_every_tensor_sorted_by_name() {
    let params = model(4);
    let tensors = read_tensors(&params.to_safetensors_bytes()).unwrap();
    let names: Vec<&str> = tensors.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["a.bias", "a.weight", "norm.bias", "norm.weight"]);
    for (name, tensor) in &tensors {
        assert_eq!(tensor, params.get(params.find(name).unwrap()), "{name}");
    }
}

#[test]
fn read_tensors_reports_every_tensor_that_is_not_f32() {
    let bytes = file(&[
        ("half", Dtype::F16, &[2], vec![0; 4]),
        ("ok", Dtype::F32, &[1], f32_bytes(&[1.0])),
        ("index", Dtype::I64, &[1], vec![0; 8]),
    ]);
    let err = read_tensors(&bytes).unwrap_err();
    assert_eq!(
        problems(&err),
        [
            Problem::WrongDtype {
                name: "half".into(),
                found: "F16".into(),
                expected: "F32".into()
            },
            Problem::WrongDtype {
                name: "index".into(),
                found: "I64".into(),
                expected: "F32".into()
            },
        ]
    );
}

#[test]
fn read_metadata_of_a_file_without_metadata_is_empty() {
    assert!(read_metadata(&f32_file(&[("x", &[1])])).unwrap().is_empty());
}

#[test]
fn a_missing_tensor_names_the_tensor_and_its_expected_shape() {
    let mut params = model(5);
    let err = load_fails(&mut params, &f32_file(&[MODEL[0], MODEL[1], MODEL[3]]));
    assert_eq!(
        problems(&err),
        [Problem::Missing { name: "norm.weight".into(), expected: Shape::from([2]) }]
    );
    let msg = err.to_string();
    assert!(
        msg.contains(
            "missing: `norm.weight` (shape [2] in the model) is not in the file"
        ),
        "{msg}"
    );
    assert!(msg.contains("nothing was loaded"), "{msg}");
    assert!(msg.contains("hint: names must match exactly"), "{msg}");
}

#[test]
fn an_extra_tensor_names_the_tensor_and_its_shape() {
    let mut params = model(6);
    let mut tensors = MODEL.to_vec();
    tensors.push(("b.weight", &[4, 2]));
    let err = load_fails(&mut params, &f32_file(&tensors));
    assert_eq!(
        problems(&err),
        [Problem::Unexpected { name: "b.weight".into(), shape: Shape::from([4, 2]) }]
    );
    let msg = err.to_string();
    assert!(
        msg.contains(
            "unexpected: `b.weight` (shape [4, 2] in the file) is not a parameter"
        ),
        "{msg}"
    );
    assert!(msg.contains("the file's names not in the model: `b.weight`"), "{msg}");
}

#[test]
fn a_wrong_shape_names_the_tensor_and_both_shapes() {
    let mut params = model(7);
    let mut tensors = MODEL.to_vec();
    tensors[2] = ("norm.weight", &[3]);
    let err = load_fails(&mut params, &f32_file(&tensors));
    assert_eq!(
        problems(&err),
        [Problem::WrongShape {
            name: "norm.weight".into(),
            expected: Shape::from([2]),
            found: Shape::from([3])
        }]
    );
    let msg = err.to_string();
    assert!(
        msg.contains(
            "wrong shape: `norm.weight` is [3] in the file but [2] in the model"
        ),
        "{msg}"
    );
    assert!(msg.contains("hint: a wrong shape means"), "{msg}");
}

#[test]
fn a_transposed_weight_is_recognised_as_one() {
    let mut params = model(8);
    let mut tensors = MODEL.to_vec();
    tensors[0] = ("a.weight", &[3, 2]);
    let msg = load_fails(&mut params, &f32_file(&tensors)).to_string();
    assert!(
        msg.contains("`a.weight` is [3, 2] in the file but [2, 3] in the model"),
        "{msg}"
    );
    assert!(msg.contains("[3, 2] is [2, 3] transposed"), "{msg}");
}

#[test]
fn a_wrong_dtype_names_the_tensor_both_dtypes_and_the_fix() {
    let mut params = model(9);
    let bytes = file(&[
        ("a.weight", Dtype::F32, &[2, 3], f32_bytes(&[0.5; 6])),
        ("a.bias", Dtype::F16, &[2], vec![0; 4]),
        ("norm.weight", Dtype::F32, &[2], f32_bytes(&[0.5; 2])),
        ("norm.bias", Dtype::F32, &[2], f32_bytes(&[0.5; 2])),
    ]);
    let err = load_fails(&mut params, &bytes);
    assert_eq!(
        problems(&err),
        [Problem::WrongDtype {
            name: "a.bias".into(),
            found: "F16".into(),
            expected: "F32".into()
        }]
    );
    let msg = err.to_string();
    assert!(
        msg.contains(
            "wrong dtype: `a.bias` is stored as F16, but resgrad loads only F32"
        ),
        "{msg}"
    );
    assert!(msg.contains("tensor.float()"), "{msg}");
}

#[test]
fn a_wrong_dtype_and_a_wrong_shape_on_one_tensor_are_both_reported() {
    let mut params = model(10);
    let bytes = file(&[
        ("a.weight", Dtype::F32, &[2, 3], f32_bytes(&[0.5; 6])),
        ("a.bias", Dtype::F64, &[3], vec![0; 24]),
        ("norm.weight", Dtype::F32, &[2], f32_bytes(&[0.5; 2])),
        ("norm.bias", Dtype::F32, &[2], f32_bytes(&[0.5; 2])),
    ]);
    let err = load_fails(&mut params, &bytes);
    assert_eq!(
        problems(&err),
        [
            Problem::WrongDtype {
                name: "a.bias".into(),
                found: "F64".into(),
                expected: "F32".into()
            },
            Problem::WrongShape {
                name: "a.bias".into(),
                expected: Shape::from([2]),
                found: Shape::from([3])
            },
        ]
    );
}

#[test]
fn several_problems_are_all_reported_at_once() {
    let mut params = model(11);
    let bytes = file(&[
        ("a.weight", Dtype::F32, &[2, 4], f32_bytes(&[0.5; 8])), // wrong shape
        ("a.bias", Dtype::BF16, &[2], vec![0; 4]),               // wrong dtype
        // norm.weight missing
        ("norm.bias", Dtype::F32, &[2], f32_bytes(&[0.5; 2])),
        ("extra.one", Dtype::F32, &[1], f32_bytes(&[0.5])), // extra
        ("extra.two", Dtype::F32, &[5], f32_bytes(&[0.5; 5])), // extra
    ]);
    let err = load_fails(&mut params, &bytes);
    assert_eq!(
        problems(&err),
        [
            Problem::WrongShape {
                name: "a.weight".into(),
                expected: Shape::from([2, 3]),
                found: Shape::from([2, 4])
            },
            Problem::WrongDtype {
                name: "a.bias".into(),
                found: "BF16".into(),
                expected: "F32".into()
            },
            Problem::Missing { name: "norm.weight".into(), expected: Shape::from([2]) },
            Problem::Unexpected { name: "extra.one".into(), shape: Shape::from([1]) },
            Problem::Unexpected { name: "extra.two".into(), shape: Shape::from([5]) },
        ]
    );
    let msg = err.to_string();
    assert!(msg.starts_with("the weights in the bytes do not fit: 5 problems"), "{msg}");
    for name in ["a.weight", "a.bias", "norm.weight", "extra.one", "extra.two"] {
        assert!(msg.contains(&format!("`{name}`")), "{name} not named in:\n{msg}");
    }
    for hint in ["names must match", "a wrong shape means", "f32 only"] {
        assert!(msg.contains(hint), "no `{hint}` hint in:\n{msg}");
    }
}

#[test]
fn a_file_whose_names_carry_an_extra_prefix_gets_a_hint_naming_it() {
    let mut params = model(12);
    let prefixed: Vec<(String, &[usize])> =
        MODEL.iter().map(|(n, s)| (format!("model.{n}"), *s)).collect();
    let tensors: Vec<(&str, &[usize])> =
        prefixed.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    let err = load_fails(&mut params, &f32_file(&tensors));
    assert_eq!(problems(&err).len(), 8);
    let msg = err.to_string();
    assert!(msg.contains("extra prefix `model.`"), "{msg}");
    assert!(msg.contains("params.scope(\"model\")"), "{msg}");
    assert!(
        msg.contains(
            "the model's names not in the file: `a.weight`, `a.bias`, `norm.weight`, ... (4 in all)"
        ),
        "{msg}"
    );
}

#[test]
fn a_model_whose_names_carry_a_prefix_the_file_lacks_gets_a_hint_naming_it() {
    let mut params = Params::new();
    LayerNorm::new(&mut params.scope("encoder.norm"), 2);
    let err =
        load_fails(&mut params, &f32_file(&[("norm.weight", &[2]), ("norm.bias", &[2])]));
    let msg = err.to_string();
    assert!(msg.contains("The model's names carry a prefix `encoder.`"), "{msg}");
}

#[test]
fn a_long_list_of_problems_is_summarised_after_twenty() {
    let mut params = Params::new();
    for i in 0..30 {
        LayerNorm::new(&mut params.scope(&format!("layers.{i}")), 2);
    }
    let err = load_fails(&mut params, &Params::new().to_safetensors_bytes());
    assert_eq!(problems(&err).len(), 60);
    let msg = err.to_string();
    assert!(msg.contains("... and 40 more"), "{msg}");
    assert_eq!(msg.matches("missing: ").count(), 20, "{msg}");
}

#[test]
fn empty_bytes_are_damaged() {
    let err = load_fails(&mut model(13), &[]);
    assert_damaged(&err);
    assert!(
        err.to_string().contains("the bytes are not a valid safetensors file"),
        "{err}"
    );
}

#[test]
fn a_file_truncated_anywhere_is_damaged() {
    let bytes = model(14).to_safetensors_bytes();
    let mut params = model(15);
    for cut in 0..bytes.len() {
        let err = load_fails(&mut params, &bytes[..cut]);
        assert_damaged(&err);
    }
}

#[test]
fn random_garbage_is_damaged() {
    let mut rng = Rng::new(16);
    let mut params = model(17);
    for len in [1, 7, 8, 9, 64, 1000] {
        let garbage: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        assert_damaged(&load_fails(&mut params, &garbage));
    }
}

#[test]
fn a_header_with_an_absurd_length_is_damaged() {
    let mut params = model(18);
    for length in [u64::MAX, 1 << 40, 100_000_001, 1_000] {
        let mut bytes = length.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"{}");
        assert_damaged(&load_fails(&mut params, &bytes));
    }
}

#[test]
fn a_header_that_is_not_json_or_not_utf8_is_damaged() {
    let mut params = model(19);
    assert_damaged(&load_fails(&mut params, &raw("not json", &[])));
    let mut bytes = 4u64.to_le_bytes().to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, 0xfd, 0xfc]);
    assert_damaged(&load_fails(&mut params, &bytes));
}

#[test]
fn data_offsets_outside_the_buffer_are_damaged() {
    let mut params = Params::new();
    LayerNorm::new(&mut params.scope("n"), 1);
    let cases = [
        // Offsets reaching past the end of the data.
        (
            r#"{"n.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"n.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,400]}}"#,
            8,
        ),
        // Backwards offsets.
        (
            r#"{"n.weight":{"dtype":"F32","shape":[1],"data_offsets":[4,0]},"n.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            8,
        ),
        // A gap between tensors.
        (
            r#"{"n.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"n.bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
            12,
        ),
        // Offsets that disagree with the shape.
        (
            r#"{"n.weight":{"dtype":"F32","shape":[2],"data_offsets":[0,4]},"n.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            8,
        ),
        // Data left over after the last tensor.
        (
            r#"{"n.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"n.bias":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            16,
        ),
        // A shape whose element count overflows.
        (
            r#"{"n.weight":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,4]}}"#,
            4,
        ),
    ];
    for (header, data_len) in cases {
        let err = load_fails(&mut params, &raw(header, &vec![0; data_len]));
        assert_damaged(&err);
    }
}

#[test]
fn offsets_that_add_up_past_usize_max_are_damaged_not_a_panic() {
    // Eight 2^61 - 1 byte tensors end at 2^64 - 8; safetensors 0.8.0 adds the
    // header length to that unchecked. The guard in `resgrad::io` stops it first.
    let size: u64 = (1 << 61) - 1;
    let entries: Vec<String> = (0..8u64)
        .map(|i| {
            format!(
                r#""t{i}":{{"dtype":"U8","shape":[{size}],"data_offsets":[{},{}]}}"#,
                i * size,
                (i + 1) * size
            )
        })
        .collect();
    let bytes = raw(&format!("{{{}}}", entries.join(",")), &[]);
    let err = load_fails(&mut model(20), &bytes);
    assert_damaged(&err);
    assert!(err.to_string().contains("larger than any offset or size"), "{err}");
    assert_damaged(&read_tensors(&bytes).unwrap_err());
    assert_damaged(&read_metadata(&bytes).unwrap_err());
}

#[test]
fn large_numbers_inside_strings_are_not_mistaken_for_offsets() {
    let mut bytes = Vec::new();
    let header = r#"{"__metadata__":{"note":"99999999999999999999999 \"99999999999999999999999\""},"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    bytes.extend(raw(header, &f32_bytes(&[2.0])));
    assert_eq!(
        read_metadata(&bytes).unwrap()["note"],
        r#"99999999999999999999999 "99999999999999999999999""#
    );
    assert_eq!(read_tensors(&bytes).unwrap()[0].1.data(), &[2.0]);
}

#[test]
fn saving_and_loading_through_a_file_round_trips() {
    let path = temp_path("round-trip");
    let saved = model(21);
    saved.save_safetensors(&path).unwrap();
    let mut loaded = model(22);
    let result = loaded.load_safetensors(&path);
    let bytes = load_file(&path);
    std::fs::remove_file(&path).unwrap();
    result.unwrap();
    assert_eq!(snapshot(&loaded), snapshot(&saved));
    assert_eq!(bytes.unwrap(), saved.to_safetensors_bytes());
}

#[test]
fn loading_a_nonexistent_path_names_the_path() {
    let path = temp_path("does-not-exist");
    let err = load_fails_from_path(&mut model(23), &path);
    let WeightsError::Io { path: reported, source } = &err else {
        panic!("expected Io, got: {err}")
    };
    assert_eq!(reported, &path);
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("hint: check the spelling"), "{msg}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn saving_into_a_missing_directory_names_the_path() {
    let path = temp_path("no-such-dir").join("weights.safetensors");
    let err = model(24).save_safetensors(&path).unwrap_err();
    assert!(matches!(&err, WeightsError::Io { path: p, .. } if p == &path), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}

#[test]
fn a_damaged_or_mismatched_file_names_the_path() {
    let mut params = model(25);
    let garbage = temp_path("garbage");
    std::fs::write(&garbage, b"version https://git-lfs.github.com/spec/v1\n").unwrap();
    let damaged = load_fails_from_path(&mut params, &garbage);
    let mismatched = temp_path("mismatched");
    std::fs::write(&mismatched, f32_file(&[("x", &[1])])).unwrap();
    let mismatch = load_fails_from_path(&mut params, &mismatched);
    std::fs::remove_file(&garbage).unwrap();
    std::fs::remove_file(&mismatched).unwrap();

    assert!(
        matches!(&damaged, WeightsError::Damaged { path: Some(p), .. } if p == &garbage),
        "{damaged}"
    );
    assert!(
        damaged.to_string().contains(&format!(
            "`{}` is not a valid safetensors file",
            garbage.display()
        ))
    );
    assert!(damaged.to_string().contains("Git LFS pointer"), "{damaged}");
    assert!(
        matches!(&mismatch, WeightsError::Mismatch { path: Some(p), .. } if p == &mismatched),
        "{mismatch}"
    );
    assert!(
        mismatch
            .to_string()
            .contains(&format!("the weights in `{}` do not fit", mismatched.display()))
    );
}

/// `load_safetensors` from a path, asserting that it fails and changes nothing.
#[track_caller]
fn load_fails_from_path(params: &mut Params, path: &std::path::Path) -> WeightsError {
    let before = snapshot(params);
    let err = params.load_safetensors(path).expect_err("loading should fail");
    assert_eq!(snapshot(params), before, "a failed load changed the store");
    err
}

/// Loads `bytes`; on success the store must hold exactly the file's tensors,
/// on failure it must be unchanged. Either way nothing may panic.
fn check_load(params: &mut Params, bytes: &[u8]) -> Result<(), TestCaseError> {
    let before = snapshot(params);
    match params.load_safetensors_bytes(bytes) {
        Ok(()) => {
            let file =
                read_tensors(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(file.len(), params.len());
            for (name, tensor) in file {
                let id = params
                    .find(&name)
                    .ok_or_else(|| TestCaseError::fail(name.clone()))?;
                let stored: Vec<u32> =
                    params.get(id).data().iter().map(|v| v.to_bits()).collect();
                let read: Vec<u32> = tensor.data().iter().map(|v| v.to_bits()).collect();
                prop_assert_eq!(stored, read, "{}", name);
            }
        }
        Err(e) => {
            prop_assert_eq!(snapshot(params), before, "a failed load changed the store");
            prop_assert!(!e.to_string().is_empty());
        }
    }
    // The readers see the same bytes and must not panic either.
    let _ = read_tensors(bytes);
    let _ = read_metadata(bytes);
    Ok(())
}

proptest! {
    #![proptest_config(common::proptest_config(256, "proptest-regressions/weights.txt"))]

    #[test]
    fn arbitrary_bytes_never_panic_and_a_failed_load_changes_nothing(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
        header_len in prop::option::of(0u64..300),
    ) {
        let mut bytes = bytes;
        if let Some(n) = header_len {
            // Half the cases get a plausible header length, to reach the JSON parser.
            let mut framed = n.to_le_bytes().to_vec();
            framed.extend(bytes);
            bytes = framed;
        }
        check_load(&mut model(30), &bytes)?;
    }

    #[test]
    fn truncated_or_bit_flipped_files_never_panic_and_a_failed_load_changes_nothing(
        seed in any::<u64>(),
        cut in any::<prop::sample::Index>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 0u8..8), 0..4),
        truncate in any::<bool>(),
    ) {
        let mut bytes = model(seed).to_safetensors_bytes();
        for (at, bit) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= 1 << bit;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        check_load(&mut model(seed.wrapping_add(1)), &bytes)?;
    }
}
