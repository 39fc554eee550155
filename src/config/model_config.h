// The whole config module in one include, for code that uses several of its parts: the
// generated ModelConfig message, parsing, validation and auto-complete, version policy,
// JSON rendering and small queries.
#pragma once

#include "config/auto_complete.h"
#include "config/model_config.pb.h"
#include "config/model_config_json.h"
#include "config/model_config_parser.h"
#include "config/model_config_queries.h"
#include "config/model_config_validation.h"
#include "config/model_signature.h"
#include "config/proto_data_type.h"
#include "config/version_policy.h"
