//! Weights in and out as [safetensors] files, keyed by PyTorch's
//! `state_dict` names.
//!
//! A safetensors file is three things in a row: an 8-byte little-endian
//! length `n`, `n` bytes of JSON naming every tensor with its dtype, shape
//! and byte range, and then the raw tensor bytes. There is no code in it to
//! run, so loading a file from a stranger is safe, and PyTorch writes it with
//! `safetensors.torch.save_file(model.state_dict(), "model.safetensors")`.
//!
//! * [`Params::save_safetensors`] writes every parameter as a little-endian
//!   `F32` tensor under its full name (`layers.0.linear1.weight`), with the
//!   metadata `{"format": "pt"}` that Hugging Face's loaders look for.
//! * [`Params::load_safetensors`] is **strict** and **atomic**. Every
//!   parameter of the model must be in the file with its exact shape and
//!   dtype `F32`, and the file may hold nothing else. The whole file is
//!   checked first and every problem is collected; only when there is none
//!   are the values copied. On any error the store is exactly as it was:
//!   bad input loses nothing.
//! * [`read_tensors`] and [`read_metadata`] read a file without a model, for
//!   tests that compare against tensors exported from PyTorch.
//!
//! ```
//! use resgrad::nn::{Linear, Params};
//! use resgrad::Rng;
//!
//! let build = |seed| {
//!     let mut params = Params::new();
//!     Linear::new(&mut params.scope("proj"), 4, 3, true, &mut Rng::new(seed));
//!     params
//! };
//! let trained = build(1);
//! let bytes = trained.to_safetensors_bytes();
//!
//! let mut fresh = build(2); // same layout, other values
//! fresh.load_safetensors_bytes(&bytes)?;
//! let (w_fresh, w_trained) = (fresh.find("proj.weight").unwrap(), trained.find("proj.weight").unwrap());
//! assert_eq!(fresh.get(w_fresh), trained.get(w_trained));
//! # Ok::<(), resgrad::io::WeightsError>(())
//! ```
//!
//! ## Errors, not panics
//!
//! A weights file comes from the world, not from the program, so nothing in
//! this module panics on its contents: empty, truncated, random or hostile
//! bytes all come back as a [`WeightsError`] whose message says what was
//! wrong and how to fix it. (One guard here goes beyond the parser:
//! safetensors 0.8.0 adds the header's last data offset to the header length
//! without checking for overflow, so a header declaring offsets near
//! `usize::MAX` would panic in a build with overflow checks. Such a header
//! is rejected before it reaches the parser.)
//!
//! [safetensors]: https://huggingface.co/docs/safetensors

use crate::nn::{ParamId, Params};
use crate::shape::Shape;
use crate::tensor::Tensor;
use safetensors::tensor::TensorView;
use safetensors::{Dtype, SafeTensorError, SafeTensors, View};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// How many problems a [`WeightsError::Mismatch`] message lists before it
/// summarises the rest (all of them stay in the error's `problems`).
const LISTED_PROBLEMS: usize = 20;

/// How many names a hint about mismatched names shows from each side.
const LISTED_NAMES: usize = 3;

/// Why weights could not be read, written or loaded.
///
/// The `Display` text is meant to be shown to a person as it is: it names the
/// file (or says the data came from bytes in memory), every tensor involved,
/// the shapes and dtypes on both sides, and a fix.
#[derive(Debug)]
pub enum WeightsError {
    /// Reading or writing a file failed.
    Io {
        /// The file that could not be read or written.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// The data is not a well-formed safetensors file: too short, truncated,
    /// not JSON, offsets that do not match the data, and so on.
    Damaged {
        /// The file the data came from, `None` for bytes in memory.
        path: Option<PathBuf>,
        /// What the parser found wrong.
        reason: String,
    },
    /// The file is well formed but its tensors do not fit: each entry of
    /// `problems` is one tensor that is missing, extra, of the wrong shape or
    /// of the wrong dtype. Nothing was loaded.
    Mismatch {
        /// The file the data came from, `None` for bytes in memory.
        path: Option<PathBuf>,
        /// Every problem found, never empty: first those of the model's
        /// parameters in registration order, then the file's extra tensors
        /// sorted by name.
        problems: Vec<Problem>,
    },
}

/// One tensor that does not fit, inside a [`WeightsError::Mismatch`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The model has a parameter that the file lacks.
    Missing {
        /// The parameter's full name.
        name: String,
        /// The shape the model expects.
        expected: Shape,
    },
    /// The file has a tensor that the model lacks.
    Unexpected {
        /// The tensor's name in the file.
        name: String,
        /// Its shape in the file.
        shape: Shape,
    },
    /// Both have the tensor, with different shapes.
    WrongShape {
        /// The full name.
        name: String,
        /// The shape the model expects.
        expected: Shape,
        /// The shape in the file.
        found: Shape,
    },
    /// The file stores the tensor in a dtype other than `F32`.
    WrongDtype {
        /// The full name.
        name: String,
        /// The dtype in the file, as safetensors spells it (`F16`, `BF16`, `I64`, ...).
        found: String,
        /// The dtype resgrad needs: always `F32`.
        expected: String,
    },
}

impl Problem {
    /// The name of the tensor the problem is about.
    pub fn name(&self) -> &str {
        match self {
            Problem::Missing { name, .. }
            | Problem::Unexpected { name, .. }
            | Problem::WrongShape { name, .. }
            | Problem::WrongDtype { name, .. } => name,
        }
    }
}

impl fmt::Display for Problem {
    /// One line: the kind of problem, the tensor, and what each side has.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { name, expected } => {
                write!(
                    f,
                    "missing: `{name}` (shape {expected} in the model) is not in the file"
                )
            }
            Problem::Unexpected { name, shape } => {
                write!(
                    f,
                    "unexpected: `{name}` (shape {shape} in the file) is not a parameter of the model"
                )
            }
            Problem::WrongShape { name, expected, found } => {
                write!(
                    f,
                    "wrong shape: `{name}` is {found} in the file but {expected} in the model"
                )
            }
            Problem::WrongDtype { name, found, expected } => {
                write!(
                    f,
                    "wrong dtype: `{name}` is stored as {found}, but resgrad loads only {expected}"
                )
            }
        }
    }
}

/// `a` is `b` with its two axes swapped (and not simply equal to it).
fn is_transpose(a: &Shape, b: &Shape) -> bool {
    matches!((a.dims(), b.dims()), (&[a0, a1], &[b0, b1]) if a0 == b1 && a1 == b0 && a0 != a1)
}

/// Writes "`path`" or "the bytes" for messages.
fn describe(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!("`{}`", p.display()),
        None => "the bytes".to_string(),
    }
}

/// Up to `LISTED_NAMES` names, then how many there are in all.
fn name_sample<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    let total = names.len();
    let shown: Vec<String> = names.take(LISTED_NAMES).map(|n| format!("`{n}`")).collect();
    if total > shown.len() {
        format!("{}, ... ({total} in all)", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// The prefix one side's names carry and the other's lack, found from the
/// first pair `(missing, extra)` where one name is the other plus `prefix.`.
/// Returns `(prefix, true)` when the file has the extra prefix, `(prefix,
/// false)` when the model has it.
fn find_prefix(missing: &[&str], extra: &[&str]) -> Option<(String, bool)> {
    let dotted_prefix = |long: &str, short: &str| -> Option<String> {
        let head = long.strip_suffix(short)?.strip_suffix('.')?;
        (!head.is_empty()).then(|| head.to_string())
    };
    // A few dozen names on each side are plenty to spot a systematic prefix.
    for m in missing.iter().take(50) {
        for e in extra.iter().take(50) {
            if let Some(p) = dotted_prefix(e, m) {
                return Some((p, true));
            }
            if let Some(p) = dotted_prefix(m, e) {
                return Some((p, false));
            }
        }
    }
    None
}

impl WeightsError {
    fn fmt_mismatch(
        path: &Option<PathBuf>,
        problems: &[Problem],
        f: &mut fmt::Formatter<'_>,
    ) -> fmt::Result {
        let n = problems.len();
        writeln!(
            f,
            "the weights in {} do not fit: {n} problem{}, so nothing was loaded \
             (a load copies every tensor or none)",
            describe(path),
            if n == 1 { "" } else { "s" }
        )?;
        for p in problems.iter().take(LISTED_PROBLEMS) {
            writeln!(f, "  {p}")?;
            if let Problem::WrongShape { expected, found, .. } = p {
                if is_transpose(expected, found) {
                    writeln!(
                        f,
                        "    {found} is {expected} transposed: if this is a Linear weight kept as [in, out], \
                         transpose it (w.T) before saving; resgrad, like PyTorch, stores [out, in]"
                    )?;
                }
            }
        }
        if n > LISTED_PROBLEMS {
            writeln!(
                f,
                "  ... and {} more (every one is in WeightsError::Mismatch's `problems`)",
                n - LISTED_PROBLEMS
            )?;
        }

        let missing: Vec<&str> = problems
            .iter()
            .filter(|p| matches!(p, Problem::Missing { .. }))
            .map(Problem::name)
            .collect();
        let extra: Vec<&str> = problems
            .iter()
            .filter(|p| matches!(p, Problem::Unexpected { .. }))
            .map(Problem::name)
            .collect();
        let mut hints = Vec::new();
        if !missing.is_empty() || !extra.is_empty() {
            let mut hint = String::from("names must match exactly, dots and all");
            if !missing.is_empty() {
                hint += &format!(
                    "; the model's names not in the file: {}",
                    name_sample(missing.iter().copied())
                );
            }
            if !extra.is_empty() {
                hint += &format!(
                    "; the file's names not in the model: {}",
                    name_sample(extra.iter().copied())
                );
            }
            match find_prefix(&missing, &extra) {
                Some((prefix, true)) => {
                    hint += &format!(
                        ".\n  The file's names carry an extra prefix `{prefix}.` (a wrapper module such as \
                         `model.` or DataParallel's `module.`): build the model inside \
                         params.scope(\"{prefix}\"), or strip the prefix when saving"
                    )
                }
                Some((prefix, false)) => {
                    hint += &format!(
                        ".\n  The model's names carry a prefix `{prefix}.` that the file lacks: build the \
                         model in a scope without it, or add the prefix to the names when saving"
                    )
                }
                None if !missing.is_empty() && !extra.is_empty() => {
                    hint += ".\n  If the two sides differ by a prefix, rename one of them; if the names \
                             differ otherwise, the file is from another architecture"
                }
                None if !missing.is_empty() => {
                    hint += ".\n  The file is missing tensors: it may be from a smaller model (fewer layers), \
                             or saved from part of the model"
                }
                None => {
                    hint += ".\n  The file has tensors the model lacks: it may be from a larger model (more \
                             layers), or from a model with extra heads or buffers"
                }
            }
            hints.push(hint);
        }
        if problems.iter().any(|p| matches!(p, Problem::WrongShape { .. })) {
            hints.push(
                "a wrong shape means the file comes from a model of other sizes: build the model with \
                 the sizes it was trained with (d_model, heads, feed-forward width, vocabulary)"
                    .to_string(),
            );
        }
        if problems.iter().any(|p| matches!(p, Problem::WrongDtype { .. })) {
            hints.push(
                "resgrad computes in f32 only: convert before saving, e.g. in PyTorch save it with \
                 tensor.float(), as in save_file({k: v.float() for k, v in model.state_dict().items()}, path)"
                    .to_string(),
            );
        }
        for (i, hint) in hints.iter().enumerate() {
            write!(f, "  hint: {hint}")?;
            if i + 1 < hints.len() {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for WeightsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WeightsError::Io { path, source } => {
                write!(f, "could not read or write `{}`: {source}", path.display())?;
                match source.kind() {
                    std::io::ErrorKind::NotFound => write!(
                        f,
                        "\n  hint: check the spelling; a relative path starts from the current working \
                         directory, not from the source file, and a file can only be saved into a \
                         directory that already exists (std::fs::create_dir_all makes one)"
                    ),
                    std::io::ErrorKind::PermissionDenied => {
                        write!(
                            f,
                            "\n  hint: this process may not access the file; check its permissions"
                        )
                    }
                    _ => Ok(()),
                }
            }
            WeightsError::Damaged { path, reason } => write!(
                f,
                "{} {} not a valid safetensors file: {reason}\n  \
                 a safetensors file is an 8-byte little-endian header length, a JSON header giving \
                 every tensor's dtype, shape and byte range, then exactly those bytes; this data \
                 breaks that layout\n  \
                 hint: a truncated download, a Git LFS pointer in place of the real file, or a \
                 PyTorch pickle (a .bin or .pt from torch.save) fail this way; download the file \
                 again, or convert it in Python with \
                 safetensors.torch.save_file(model.state_dict(), \"model.safetensors\")",
                describe(path),
                if path.is_some() { "is" } else { "are" },
            ),
            WeightsError::Mismatch { path, problems } => {
                WeightsError::fmt_mismatch(path, problems, f)
            }
        }
    }
}

impl std::error::Error for WeightsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WeightsError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A parameter as safetensors sees it: `F32`, its shape, little-endian bytes.
struct F32View<'a>(&'a Tensor);

impl View for F32View<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }

    fn shape(&self) -> &[usize] {
        self.0.dims()
    }

    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.0.data().iter().flat_map(|v| v.to_le_bytes()).collect())
    }

    fn data_len(&self) -> usize {
        self.0.numel() * size_of::<f32>()
    }
}

/// Rejects a header that would make safetensors 0.8.0 overflow.
///
/// The parser checks `last_offset + 8 + header_len == file_len` with an
/// unchecked addition, and `last_offset` is a number written in the header.
/// So any number in the JSON (outside strings) above `usize::MAX - 8 -
/// header_len` is refused here. No valid offset is that large; the only
/// other numbers are shape dimensions, and a dimension that large fits in a
/// file only in a tensor with no elements, which this module treats as
/// damage too. Everything else (short buffers, bad lengths, bad JSON) is
/// left for the parser to report.
fn check_header_numbers(
    bytes: &[u8],
    path: &Option<PathBuf>,
) -> Result<(), WeightsError> {
    let Some(&[b0, b1, b2, b3, b4, b5, b6, b7]) = bytes.get(..8) else { return Ok(()) };
    let Ok(n) = usize::try_from(u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]))
    else {
        return Ok(());
    };
    let Some(header) = n.checked_add(8).and_then(|end| bytes.get(8..end)) else {
        return Ok(());
    };
    let limit = usize::MAX.saturating_sub(8).saturating_sub(n) as u128;

    let (mut in_string, mut escaped) = (false, false);
    let mut i = 0;
    while i < header.len() {
        let b = header[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
        } else if b == b'"' {
            in_string = true;
            i += 1;
        } else if b.is_ascii_digit() {
            let start = i;
            let mut value: u128 = 0;
            while i < header.len() && header[i].is_ascii_digit() {
                value =
                    value.saturating_mul(10).saturating_add(u128::from(header[i] - b'0'));
                i += 1;
            }
            if value > limit {
                let digits = String::from_utf8_lossy(&header[start..i.min(start + 40)])
                    .into_owned();
                return Err(WeightsError::Damaged {
                    path: path.clone(),
                    reason: format!(
                        "the header holds the number {digits}, larger than any offset or size this file \
                         can have (the header's offsets must end at the file's last byte)"
                    ),
                });
            }
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn damaged(path: &Option<PathBuf>, error: SafeTensorError) -> WeightsError {
    WeightsError::Damaged { path: path.clone(), reason: error.to_string() }
}

/// Parses a whole file, tensors and all.
fn parse<'a>(
    bytes: &'a [u8],
    path: &Option<PathBuf>,
) -> Result<SafeTensors<'a>, WeightsError> {
    check_header_numbers(bytes, path)?;
    SafeTensors::deserialize(bytes).map_err(|e| damaged(path, e))
}

/// Copies little-endian `f32`s into `dst` (`src` holds exactly `4 * dst.len()` bytes).
fn decode_f32(dst: &mut [f32], src: &[u8]) {
    for (d, chunk) in dst.iter_mut().zip(src.chunks_exact(size_of::<f32>())) {
        if let &[a, b, c, e] = chunk {
            *d = f32::from_le_bytes([a, b, c, e]);
        }
    }
}

/// A view's data as a tensor. The caller has checked that the dtype is
/// `F32`; the parser has checked that the bytes fill the shape exactly.
fn to_tensor(view: &TensorView<'_>) -> Tensor {
    let shape = Shape::new(view.shape());
    let mut data = vec![0.0; shape.numel()];
    decode_f32(&mut data, view.data());
    Tensor::from_vec(data, shape)
}

fn io_error(path: &Path, source: std::io::Error) -> WeightsError {
    WeightsError::Io { path: path.to_path_buf(), source }
}

/// Reads a whole file into memory, naming the path if that fails.
///
/// ```
/// let missing = std::env::temp_dir().join("resgrad-doc-no-such-file.safetensors");
/// let err = resgrad::io::load_file(&missing).unwrap_err();
/// assert!(err.to_string().contains("resgrad-doc-no-such-file.safetensors"));
/// ```
pub fn load_file(path: impl AsRef<Path>) -> Result<Vec<u8>, WeightsError> {
    let path = path.as_ref();
    std::fs::read(path).map_err(|e| io_error(path, e))
}

/// Every tensor of a safetensors file as an `f32` [`Tensor`], sorted by name.
///
/// Only `F32` tensors can be read; any other dtype is reported, with every
/// other such tensor, as a [`Problem::WrongDtype`] in a
/// [`WeightsError::Mismatch`]. Damaged data is a [`WeightsError::Damaged`].
///
/// ```
/// use resgrad::nn::{LayerNorm, Params};
/// let mut params = Params::new();
/// LayerNorm::new(&mut params.scope("norm"), 3);
/// let tensors = resgrad::io::read_tensors(&params.to_safetensors_bytes())?;
/// let names: Vec<&str> = tensors.iter().map(|(name, _)| name.as_str()).collect();
/// assert_eq!(names, ["norm.bias", "norm.weight"]);
/// assert_eq!(tensors[1].1.data(), &[1.0, 1.0, 1.0]);
/// # Ok::<(), resgrad::io::WeightsError>(())
/// ```
pub fn read_tensors(bytes: &[u8]) -> Result<Vec<(String, Tensor)>, WeightsError> {
    let file = parse(bytes, &None)?;
    let mut views: Vec<(String, TensorView<'_>)> = file.tensors();
    views.sort_by(|a, b| a.0.cmp(&b.0));
    let problems: Vec<Problem> = views
        .iter()
        .filter(|(_, v)| v.dtype() != Dtype::F32)
        .map(|(name, v)| Problem::WrongDtype {
            name: name.clone(),
            found: v.dtype().to_string(),
            expected: "F32".into(),
        })
        .collect();
    if !problems.is_empty() {
        return Err(WeightsError::Mismatch { path: None, problems });
    }
    Ok(views.into_iter().map(|(name, view)| (name, to_tensor(&view))).collect())
}

/// The free-form `__metadata__` of a safetensors file (empty if it has none).
///
/// The whole file is checked, not only the header, so damaged data is an
/// error here too.
///
/// ```
/// use resgrad::nn::Params;
/// let meta = resgrad::io::read_metadata(&Params::new().to_safetensors_bytes())?;
/// assert_eq!(meta.get("format").map(String::as_str), Some("pt"));
/// # Ok::<(), resgrad::io::WeightsError>(())
/// ```
pub fn read_metadata(bytes: &[u8]) -> Result<BTreeMap<String, String>, WeightsError> {
    check_header_numbers(bytes, &None)?;
    let (_, metadata) =
        SafeTensors::read_metadata(bytes).map_err(|e| damaged(&None, e))?;
    Ok(metadata
        .metadata()
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect())
}

impl Params {
    /// The whole store as a safetensors file in memory: every parameter as a
    /// little-endian `F32` tensor under its full name, with the metadata
    /// `{"format": "pt"}`. (The file lists tensors by name, not in
    /// registration order; names are what loading matches on.)
    ///
    /// ```
    /// use resgrad::nn::{Linear, Params};
    /// use resgrad::Rng;
    /// let mut params = Params::new();
    /// Linear::new(&mut params.scope("out"), 2, 1, false, &mut Rng::new(0));
    /// let bytes = params.to_safetensors_bytes();
    /// let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    /// assert_eq!(bytes.len(), 8 + header_len + 2 * 4); // one [1, 2] tensor of f32
    /// ```
    ///
    /// # Panics
    ///
    /// Only if the JSON header naming the tensors would exceed the format's
    /// 100 MB limit, which takes on the order of a million parameters.
    #[track_caller]
    pub fn to_safetensors_bytes(&self) -> Vec<u8> {
        let tensors = self.iter().map(|(_, p)| (p.name.as_str(), F32View(&p.value)));
        let metadata =
            Some([("format".to_string(), "pt".to_string())].into_iter().collect());
        match safetensors::serialize(tensors, metadata) {
            Ok(bytes) => bytes,
            Err(e) => panic!(
                "to_safetensors_bytes: safetensors cannot write these {} tensors: {e}\n  \
                 the header naming every tensor is limited to 100 MB; save the weights in \
                 several files, each from a smaller store",
                self.len()
            ),
        }
    }

    /// Saves the store to a safetensors file (see
    /// [`to_safetensors_bytes`](Params::to_safetensors_bytes)), replacing
    /// the file if it exists. The directory must exist.
    ///
    /// ```
    /// use resgrad::nn::{LayerNorm, Params};
    /// let mut params = Params::new();
    /// LayerNorm::new(&mut params.scope("norm"), 4);
    /// let path = std::env::temp_dir().join(format!("resgrad-doc-save-{}.safetensors", std::process::id()));
    /// params.save_safetensors(&path)?;
    /// params.load_safetensors(&path)?;
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), resgrad::io::WeightsError>(())
    /// ```
    pub fn save_safetensors(&self, path: impl AsRef<Path>) -> Result<(), WeightsError> {
        let path = path.as_ref();
        std::fs::write(path, self.to_safetensors_bytes()).map_err(|e| io_error(path, e))
    }

    /// Loads every parameter from a safetensors file in memory, strictly and
    /// atomically.
    ///
    /// Every parameter must be in the file under its full name, with the
    /// same shape and dtype `F32`, and the file must hold nothing else. All
    /// problems are collected into one [`WeightsError::Mismatch`]; damaged
    /// data is a [`WeightsError::Damaged`]. On any error no value changes.
    ///
    /// ```
    /// use resgrad::io::{Problem, WeightsError};
    /// use resgrad::nn::{LayerNorm, Params};
    /// let mut small = Params::new();
    /// LayerNorm::new(&mut small.scope("norm"), 2);
    /// let mut big = Params::new();
    /// LayerNorm::new(&mut big.scope("norm"), 3);
    ///
    /// let err = big.load_safetensors_bytes(&small.to_safetensors_bytes()).unwrap_err();
    /// let WeightsError::Mismatch { problems, .. } = &err else { panic!("{err}") };
    /// assert_eq!(problems.len(), 2); // norm.weight and norm.bias
    /// assert!(matches!(&problems[0], Problem::WrongShape { name, .. } if name == "norm.weight"));
    /// assert!(err.to_string().contains("`norm.weight` is [2] in the file but [3] in the model"));
    /// assert_eq!(big.get(big.find("norm.weight").unwrap()).data(), &[1.0; 3]); // untouched
    /// ```
    pub fn load_safetensors_bytes(&mut self, bytes: &[u8]) -> Result<(), WeightsError> {
        self.load_from(bytes, None)
    }

    /// Loads every parameter from a safetensors file, strictly and
    /// atomically, as [`load_safetensors_bytes`](Params::load_safetensors_bytes)
    /// does; errors name the path.
    ///
    /// ```
    /// use resgrad::nn::{Linear, Params};
    /// use resgrad::Rng;
    /// let mut params = Params::new();
    /// Linear::new(&mut params.scope("head"), 8, 2, true, &mut Rng::new(0));
    /// let path = std::env::temp_dir().join(format!("resgrad-doc-load-{}.safetensors", std::process::id()));
    /// params.save_safetensors(&path)?;
    ///
    /// let mut again = Params::new();
    /// Linear::new(&mut again.scope("head"), 8, 2, true, &mut Rng::new(7));
    /// again.load_safetensors(&path)?;
    /// assert_eq!(again.get(again.find("head.bias").unwrap()), params.get(params.find("head.bias").unwrap()));
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), resgrad::io::WeightsError>(())
    /// ```
    pub fn load_safetensors(
        &mut self,
        path: impl AsRef<Path>,
    ) -> Result<(), WeightsError> {
        let path = path.as_ref();
        let bytes = load_file(path)?;
        self.load_from(&bytes, Some(path.to_path_buf()))
    }

    /// Checks the whole file against the store, then copies, or changes nothing.
    fn load_from(
        &mut self,
        bytes: &[u8],
        path: Option<PathBuf>,
    ) -> Result<(), WeightsError> {
        let file = parse(bytes, &path)?;
        let mut in_file: BTreeMap<String, TensorView<'_>> =
            file.tensors().into_iter().collect();

        let mut problems = Vec::new();
        let mut matched: Vec<(ParamId, TensorView<'_>)> = Vec::with_capacity(self.len());
        for (id, param) in self.iter() {
            let Some(view) = in_file.remove(&param.name) else {
                problems.push(Problem::Missing {
                    name: param.name.clone(),
                    expected: param.value.shape().clone(),
                });
                continue;
            };
            let found = Shape::new(view.shape());
            let mut fits = true;
            if view.dtype() != Dtype::F32 {
                problems.push(Problem::WrongDtype {
                    name: param.name.clone(),
                    found: view.dtype().to_string(),
                    expected: "F32".into(),
                });
                fits = false;
            }
            if &found != param.value.shape() {
                problems.push(Problem::WrongShape {
                    name: param.name.clone(),
                    expected: param.value.shape().clone(),
                    found,
                });
                fits = false;
            }
            if fits {
                matched.push((id, view));
            }
        }
        for (name, view) in in_file {
            problems.push(Problem::Unexpected { name, shape: Shape::new(view.shape()) });
        }
        if !problems.is_empty() {
            return Err(WeightsError::Mismatch { path, problems });
        }

        // Every check passed: from here on nothing can fail.
        for (id, view) in matched {
            decode_f32(self.get_mut(id).data_mut(), view.data());
        }
        Ok(())
    }
}
