"""Members (家庭成员): member changes (动态管理), versioned member details, yearly incomes."""
