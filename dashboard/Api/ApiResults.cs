using Microsoft.AspNetCore.Http;

namespace LeakHunter.Dashboard.Api;

/// <summary>The API's error answers: problem details with a one-line reason.</summary>
internal static class ApiResults
{
    public static IResult BadRequest(string detail, IDictionary<string, string[]>? errors = null) =>
        errors is null
            ? Results.Problem(title: "Bad request", detail: detail, statusCode: StatusCodes.Status400BadRequest)
            : Results.ValidationProblem(errors, detail: detail, title: "Bad request");

    public static IResult NotFound(string what, string id) =>
        Results.Problem(title: "Not found", detail: $"no {what} with id '{id}'", statusCode: StatusCodes.Status404NotFound);
}
