//! Recognizing uploads that are not safetensors: pickle and zip checkpoints (PyTorch), GGUF,
//! by their first bytes or by their file extension. whittle refuses them without parsing,
//! because unpickling runs arbitrary code.

/// Recognize a PyTorch pickle or zip checkpoint (or a GGUF file) from the first bytes of an
/// upload; returns a human name for the format so the API can answer 415.
pub fn looks_like_pickle_or_zip(prefix: &[u8]) -> Option<&'static str> {
    // A safetensors header length of 0x0280..=0x05ff begins with the bytes of a pickle
    // PROTO opcode; the JSON header's `{` at byte 8 tells the two apart.
    if prefix.get(8) == Some(&b'{') {
        return None;
    }
    match prefix {
        // Pickle protocols 2..=5 start with the PROTO opcode 0x80 and the protocol number.
        [0x80, 2..=5, ..] => Some("PyTorch pickle checkpoint"),
        // torch.save since 1.6 writes a zip archive.
        [b'P', b'K', 3, 4, ..] => Some("zip archive (PyTorch .pt/.pth checkpoint)"),
        [b'G', b'G', b'U', b'F', ..] => Some("GGUF file"),
        _ => None,
    }
}

/// Recognize an ONNX model (a protobuf `ModelProto`) from its first bytes: field 1
/// `ir_version` (varint, tag 0x08) with a plausible version, then another `ModelProto`
/// field (producer name/version, domain, opset imports, graph). A safetensors file never
/// matches: its byte 8 is the header's `{`.
pub fn looks_like_onnx(prefix: &[u8]) -> bool {
    if prefix.get(8) == Some(&b'{') {
        return false;
    }
    matches!(prefix, [0x08, 1..=30, 0x12 | 0x1a | 0x22 | 0x3a | 0x42, ..])
}

/// The answer to an ONNX upload.
pub const ONNX_REFUSED: &str = "ONNX input is not supported yet; export safetensors \
     (python: `from safetensors.torch import save_file; save_file(model.state_dict(), 'model.safetensors')`)";

/// File extensions of pickle checkpoints (PyTorch `.bin`/`.pt`/`.pth`, Lightning `.ckpt`,
/// plain pickles), which whittle refuses by name without parsing.
pub const PICKLE_EXTENSIONS: [&str; 6] = [".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle"];

/// True when a file name (any case) ends with one of [`PICKLE_EXTENSIONS`].
pub fn has_pickle_checkpoint_extension(filename: &str) -> bool {
    let lower = filename.to_ascii_lowercase();
    PICKLE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

#[cfg(test)]
mod onnx_tests {
    use super::*;

    #[test]
    fn onnx_headers_are_recognized_and_safetensors_are_not() {
        // ir_version 8, producer_name "pytorch" (as torch.onnx.export writes).
        assert!(looks_like_onnx(b"\x08\x08\x12\x07pytorch\x1a\x032.1"));
        assert!(!looks_like_onnx(
            &super::super::fixtures::fixture_bytes()[..64]
        ));
        assert!(!looks_like_onnx(b"\x08\x00\x00\x00\x00\x00\x00\x00{\"a\""));
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::fixture_bytes;
    use super::*;

    #[test]
    fn safetensors_whose_header_length_looks_like_a_pickle_opcode_is_not_refused() {
        // Header length 0x0280 = 640 starts with 0x80 0x02, the pickle protocol-2 opcode.
        let mut prefix = 640u64.to_le_bytes().to_vec();
        prefix.extend_from_slice(b"{\"a\":");
        assert_eq!(looks_like_pickle_or_zip(&prefix), None);
        assert!(looks_like_pickle_or_zip(&[0x80, 0x02, b'c', b'x']).is_some());
    }

    #[test]
    fn pickle_and_zip_detection() {
        assert_eq!(
            looks_like_pickle_or_zip(&[0x80, 0x02, 0x8a, 0x0a]),
            Some("PyTorch pickle checkpoint")
        );
        assert!(looks_like_pickle_or_zip(&[0x80, 0x05]).is_some());
        assert!(looks_like_pickle_or_zip(b"PK\x03\x04rest")
            .unwrap()
            .contains("zip"));
        assert!(looks_like_pickle_or_zip(&[0x80, 0x06]).is_none());
        assert!(looks_like_pickle_or_zip(&fixture_bytes()[..16]).is_none());
        assert!(looks_like_pickle_or_zip(b"").is_none());
        assert!(has_pickle_checkpoint_extension("model.PTH"));
        assert!(has_pickle_checkpoint_extension("pytorch_model.bin"));
        assert!(!has_pickle_checkpoint_extension("model.safetensors"));
    }
}
