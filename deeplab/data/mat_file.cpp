#include "deeplab/data/mat_file.h"

#include <matio.h>

#include <filesystem>
#include <memory>

#include "deeplab/core/error.h"

namespace deeplab::data {
namespace fs = std::filesystem;

namespace {

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};

template <class T>
cv::Mat column_major_to_mat(const matvar_t* var) {
  const int rows = static_cast<int>(var->dims[0]), cols = static_cast<int>(var->dims[1]);
  cv::Mat out(rows, cols, CV_32SC1);
  const T* data = static_cast<const T*>(var->data);
  for (int x = 0; x < cols; ++x) {
    for (int y = 0; y < rows; ++y)
      out.at<int32_t>(y, x) = static_cast<int32_t>(data[static_cast<size_t>(x) * rows + y]);
  }
  return out;
}

cv::Mat to_mat(const matvar_t* var, const std::string& path, const std::string& name) {
  switch (var->class_type) {
    case MAT_C_UINT8: return column_major_to_mat<uint8_t>(var);
    case MAT_C_UINT16: return column_major_to_mat<uint16_t>(var);
    case MAT_C_INT16: return column_major_to_mat<int16_t>(var);
    case MAT_C_INT32: return column_major_to_mat<int32_t>(var);
    case MAT_C_UINT32: return column_major_to_mat<uint32_t>(var);
    case MAT_C_DOUBLE: return column_major_to_mat<double>(var);
    case MAT_C_SINGLE: return column_major_to_mat<float>(var);
    default:
      throw IoError(path + ": " + name + " has unsupported MATLAB class " +
                    std::to_string(static_cast<int>(var->class_type)));
  }
}

}  // namespace

cv::Mat read_mat_matrix(const std::string& path, const std::string& variable, const std::string& field) {
  if (!fs::is_regular_file(path)) throw IoError("MAT file not found: " + path);
  std::unique_ptr<mat_t, MatCloser> mat(Mat_Open(path.c_str(), MAT_ACC_RDONLY));
  if (!mat) throw IoError("cannot open MAT file (corrupt or unsupported): " + path);
  std::unique_ptr<matvar_t, VarFreer> top(Mat_VarRead(mat.get(), variable.c_str()));
  const std::string name = field.empty() ? variable : variable + "." + field;
  if (!top) throw IoError(path + ": no variable '" + variable + "'");
  const matvar_t* var = top.get();
  if (!field.empty()) {
    if (top->class_type != MAT_C_STRUCT) throw IoError(path + ": '" + variable + "' is not a struct");
    var = Mat_VarGetStructFieldByName(top.get(), field.c_str(), 0);  // owned by top
    if (!var) throw IoError(path + ": " + variable + " has no field '" + field + "'");
  }
  if (var->rank != 2 || !var->data || var->dims[0] == 0 || var->dims[1] == 0) {
    throw IoError(path + ": " + name + " is not a non-empty 2-D array");
  }
  return to_mat(var, path, name);
}

void write_mat_matrix(const std::string& path, const std::string& variable, const cv::Mat& matrix) {
  CV_Assert(matrix.type() == CV_16UC1);
  std::vector<uint16_t> column_major(matrix.total());
  for (int x = 0; x < matrix.cols; ++x) {
    for (int y = 0; y < matrix.rows; ++y) {
      column_major[static_cast<size_t>(x) * matrix.rows + y] = matrix.at<uint16_t>(y, x);
    }
  }
  const std::string partial = path + ".partial";
  {
    std::unique_ptr<mat_t, MatCloser> mat(Mat_CreateVer(partial.c_str(), nullptr, MAT_FT_MAT5));
    if (!mat) throw IoError("cannot create MAT file " + partial);
    size_t dims[2] = {static_cast<size_t>(matrix.rows), static_cast<size_t>(matrix.cols)};
    std::unique_ptr<matvar_t, VarFreer> var(Mat_VarCreate(variable.c_str(), MAT_C_UINT16, MAT_T_UINT16, 2, dims,
                                                          column_major.data(), MAT_F_DONT_COPY_DATA));
    if (!var || Mat_VarWrite(mat.get(), var.get(), MAT_COMPRESSION_NONE) != 0) {
      throw IoError("cannot write variable '" + variable + "' to " + partial);
    }
  }
  fs::rename(partial, path);
}

}  // namespace deeplab::data
