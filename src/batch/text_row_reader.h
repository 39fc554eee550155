// Factories of the text readers (text_row_reader.cc); OpenRowReader picks by format.
#pragma once

#include "batch/row_reader.h"

namespace inferd::batch {

Result<std::unique_ptr<RowReader>> OpenJsonLinesReader(const std::string& path,
                                                       const ModelSpec& model);
Result<std::unique_ptr<RowReader>> OpenCsvReader(const std::string& path, const ModelSpec& model,
                                                 const std::vector<std::string>& columns);
// .npy (single-input model) or uncompressed .npz (an array per input), array_row_reader.cc.
Result<std::unique_ptr<RowReader>> OpenArrayReader(const std::string& path, const ModelSpec& model,
                                                   bool npz);

}  // namespace inferd::batch
