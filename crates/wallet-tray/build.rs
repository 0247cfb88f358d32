//! Decodes `icons/tray.png` into the ARGB32 pixels (network byte order) a StatusNotifierItem's
//! `IconPixmap` carries, so the tray icon shows even where the icon theme has no
//! `countersign-wallet` (a build run from a checkout): `$OUT_DIR/tray-icon.argb`, and its size
//! in `$OUT_DIR/tray-icon.rs`.

use std::path::PathBuf;

fn main() {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../icons/tray.png");
    println!("cargo:rerun-if-changed={}", source.display());
    let file = std::fs::File::open(&source).expect("icons/tray.png");
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    // Palettes, 16-bit channels and missing alpha become 8-bit RGB(A).
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a sane size")];
    let frame = reader.next_frame(&mut pixels).expect("its pixels");
    let channels = match frame.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("icons/tray.png: {other:?} is neither RGB nor RGBA"),
    };
    let argb: Vec<u8> = pixels[..frame.buffer_size()]
        .chunks_exact(channels)
        .flat_map(|p| [p.get(3).copied().unwrap_or(255), p[0], p[1], p[2]])
        .collect();
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("tray-icon.argb"), &argb).expect("writing the pixels");
    std::fs::write(
        out.join("tray-icon.rs"),
        format!(
            "/// The tray icon's width and height in pixels.\n\
             pub const TRAY_ICON_SIZE: (i32, i32) = ({}, {});\n",
            frame.width, frame.height
        ),
    )
    .expect("writing the size");
}
