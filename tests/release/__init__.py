"""Release tests: one version, the changelog and release script, the HACS zip, the workflows, hassfest's
and HACS's rules, and the bridge installed from its wheel as a user would."""
