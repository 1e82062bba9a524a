#!/usr/bin/env python3
"""Copies voices/*.json into Sources/RecitalPipeline/BundledVoices.swift so the binary carries the
shipped profiles (a test checks they agree). Run after editing a profile."""
import glob, json, os
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
entries = []
for path in sorted(glob.glob(os.path.join(root, "voices", "*.json"))):
    name = os.path.splitext(os.path.basename(path))[0]
    text = open(path).read()
    json.loads(text)
    entries.append(f'        "{name}": #"""\n{text}\n"""#,')
swift = ("// Generated from voices/*.json by scripts/sync-voices.py; `VoiceProfilesTests` checks they agree.\n\n"
         "enum BundledVoices {\n    /// Profile JSON by name, exactly as in voices/.\n"
         "    static let json: [String: String] = [\n" + "\n".join(entries) + "\n    ]\n}\n")
open(os.path.join(root, "Sources", "RecitalPipeline", "BundledVoices.swift"), "w").write(swift)
