// Exit codes a scheduler can act on: retry later (4) is different from "a person
// must act" (3) and from "the command or settings are wrong" (2).
const BY_CODE = {
  invalid_input: 2,
  invalid_config: 2,
  corrupt_state: 2,
  wrong_direction: 2,
  before_history_limit: 2,
  before_activation: 2,
  auth_required: 3,
  invalid_credentials: 3,
  not_claimed: 3,
  consent_required: 3,
  no_data: 3,
  webhook_disabled: 3,
  signature_invalid: 3,
  network: 4,
  unavailable: 4,
  rate_limited: 4,
  busy: 4,
};

export function exitCodeOf(err) {
  return BY_CODE[err?.code] ?? 1;
}
