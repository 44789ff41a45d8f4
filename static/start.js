// Loads the wasm app (berth.js and berth_bg.wasm are made by `cargo xtask build`).
import init from '/berth.js';
init({ module_or_path: '/berth_bg.wasm' });
