//! `switchboard disasm`: a bundle, or a project compiled on the spot, as readable text.

use super::EXIT_FAILED;
use std::path::Path;
use std::process::ExitCode;
use switchboard_bytecode::bytecode::Bundle;
use switchboard_compiler::disasm;

pub fn run(path: &Path) -> Result<ExitCode, String> {
    let is_bundle = path.is_file() && path.extension().is_none_or(|e| e != "flow");
    if is_bundle {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let bundle = Bundle::from_bytes(&bytes)?;
        // The bundle carries paths, not texts: lines are shown when the files are at hand.
        let sources: Vec<_> =
            bundle.files.iter().filter_map(|f| switchboard_shell::project::read_source(Path::new(f)).ok()).collect();
        print!("{}", disasm::disassemble(&bundle, &sources));
        return Ok(ExitCode::SUCCESS);
    }
    let Some((checked, bundle, _)) = super::build::compile(path)? else { return Ok(ExitCode::from(EXIT_FAILED)) };
    print!("{}", disasm::disassemble(&bundle, &checked.files));
    Ok(ExitCode::SUCCESS)
}
