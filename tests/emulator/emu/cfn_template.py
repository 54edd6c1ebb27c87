"""CloudFormation template engine of the emulator: parsing, validation, parameters, conditions,
intrinsic functions and the order resources are made in. No AWS calls here: emu/cloudformation.py
drives it and emu/cfn_resources.py provisions what it resolves.

JSON templates only (YAML is refused with a ValidationError that says so). Supported:
Parameters (Type String, Number, CommaDelimitedList; Default, AllowedValues, AllowedPattern,
NoEcho, MinLength/MaxLength, MinValue/MaxValue), Conditions (Fn::Equals, Fn::Not, Fn::And,
Fn::Or, Condition), a resource's Condition and DependsOn (a string or a list), Outputs (with
Condition), and the intrinsics Ref (parameters, pseudo parameters, resources), Fn::GetAtt (a
list or "A.B"), Fn::Sub (a string or [string, {vars}], ${!Literal}), Fn::Join, Fn::If,
Fn::Select, Fn::Split, Fn::Base64. Not supported (ValidationError when used): Mappings'
Fn::FindInMap, Fn::ImportValue, Fn::GetAZs, Fn::Cidr, Transform, Rules.

Errors are TemplateError (the service answers ValidationError) with CloudFormation's words:
"Template format error: Unrecognized resource types: [AWS::Foo::Bar]", "Template format error:
Unresolved resource dependencies [X] in the Resources block of the template", "Circular
dependency between resources: [A, B]", "Parameters: [X] must have values", ...
"""

import base64
import json
import re

TOP_LEVEL = ("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Mappings",
             "Conditions", "Transform", "Resources", "Outputs", "Rules")
PARAMETER_TYPES = ("String", "Number", "CommaDelimitedList")
PSEUDO = ("AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::StackId",
          "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs")
RESOURCE_KEYS = ("Type", "Properties", "DependsOn", "Condition", "DeletionPolicy",
                 "UpdateReplacePolicy", "Metadata", "CreationPolicy", "UpdatePolicy")
_SUB_VAR = re.compile(r"\$\{([^}]*)\}")
NO_VALUE = object()  # what Ref AWS::NoValue resolves to: the property is dropped


class TemplateError(Exception):
    """A template or parameter problem: the service answers 400 ValidationError."""


def parse(body):
    """The template document (a dict) from its text."""
    try:
        doc = json.loads(body)
    except ValueError:
        stripped = body.lstrip()
        if stripped[:1] not in ("{", "["):
            raise TemplateError("Template format error: YAML templates are not supported by the "
                                "emulator; send the template as JSON")
        raise TemplateError("Template format error: JSON not well-formed.")
    if not isinstance(doc, dict):
        raise TemplateError("Template format error: JSON not well-formed.")
    return doc


def _refs(value, out):
    """Collect what a value refers to: ("ref", name), ("getatt", name, attr)."""
    if isinstance(value, list):
        for v in value:
            _refs(v, out)
    elif isinstance(value, dict):
        if len(value) == 1:
            (key, arg), = value.items()
            if key == "Ref" and isinstance(arg, str):
                out.append(("ref", arg))
                return
            if key == "Fn::GetAtt":
                parts = _getatt_parts(arg)
                out.append(("getatt", parts[0], parts[1]))
                return
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                for name in _sub_names(text):
                    if name in variables:
                        continue
                    if "." in name:
                        res, attr = name.split(".", 1)
                        out.append(("getatt", res, attr))
                    else:
                        out.append(("ref", name))
                _refs(variables, out)
                return
        for v in value.values():
            _refs(v, out)


def _getatt_parts(arg):
    if isinstance(arg, str) and "." in arg:
        return arg.split(".", 1)
    if isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) for a in arg):
        return arg
    raise TemplateError("Template error: every Fn::GetAtt object requires two non-empty "
                        "parameters")


def _sub_names(text):
    if not isinstance(text, str):
        raise TemplateError("Template error: One or more Fn::Sub intrinsic functions don't "
                            "specify expected arguments. Specify a string as first argument, "
                            "and an optional second argument to specify a mapping of values "
                            "to replace in the string")
    return [m.group(1).strip() for m in _SUB_VAR.finditer(text) if not m.group(1).startswith("!")]


class Template:
    """A parsed and checked template. `types` maps a resource type to its description
    (cfn_resources.TYPES: .getatt, the attributes Fn::GetAtt may read)."""

    def __init__(self, doc, types):
        self.doc = doc
        self.types = types
        bad = [k for k in doc if k not in TOP_LEVEL]
        if bad:
            raise TemplateError("Template format error: Invalid template property or properties "
                                "[%s]" % ", ".join(sorted(bad)))
        for unsupported in ("Transform", "Rules"):
            if unsupported in doc:
                raise TemplateError("Template format error: %s is not supported by the emulator"
                                    % unsupported)
        self.parameters = self._dict("Parameters")
        self.conditions = self._dict("Conditions")
        self.outputs = self._dict("Outputs")
        self.resources = self._dict("Resources")
        if not self.resources:
            raise TemplateError("Template format error: At least one Resources member must be "
                                "defined.")
        self.description = doc.get("Description")
        self._check_parameters()
        self._check_resources()
        self.deps = self._dependencies()
        self.order = self._topological_order()

    def _dict(self, key):
        value = self.doc.get(key) or {}
        if not isinstance(value, dict):
            raise TemplateError("Template format error: %s must be an object" % key)
        return value

    # ------------------------------------------------------------------ checks
    def _check_parameters(self):
        for name, spec in self.parameters.items():
            if not isinstance(spec, dict) or "Type" not in spec:
                raise TemplateError("Template format error: Every Parameters object must "
                                    "contain a Type member.")
            if spec["Type"] not in PARAMETER_TYPES:
                raise TemplateError("Template format error: Unrecognized parameter type: %s"
                                    % spec["Type"])
            if name in self.resources:
                raise TemplateError("Template format error: Parameter and resource names must "
                                    "be unique: %s" % name)

    def _check_resources(self):
        unknown = []
        for lid, res in self.resources.items():
            if not isinstance(res, dict) or not isinstance(res.get("Type"), str):
                raise TemplateError("Template format error: [/Resources/%s] Every Resources "
                                    "object must contain a Type member." % lid)
            bad = [k for k in res if k not in RESOURCE_KEYS]
            if bad:
                raise TemplateError("Template format error: Unrecognized resource attribute "
                                    "[%s] in resource %s" % (bad[0], lid))
            if res["Type"] not in self.types:
                unknown.append(res["Type"])
            cond = res.get("Condition")
            if cond is not None and cond not in self.conditions:
                raise TemplateError("Template format error: Unresolved dependencies [%s]. "
                                    "Cannot reference resources in the Conditions block of the "
                                    "template" % cond)
        if unknown:
            raise TemplateError("Template format error: Unrecognized resource types: [%s]"
                                % ", ".join(sorted(set(unknown))))

    def _dependencies(self):
        """{logical id: set of logical ids it needs first} from references and DependsOn."""
        deps = {}
        unresolved = []
        for lid, res in self.resources.items():
            found = []
            _refs(res.get("Properties") or {}, found)
            need = set()
            for item in found:
                name = item[1]
                if item[0] == "ref":
                    if name in self.parameters or name in PSEUDO:
                        continue
                    if name not in self.resources:
                        unresolved.append(name)
                        continue
                else:
                    if name not in self.resources:
                        raise TemplateError("Template error: instance of Fn::GetAtt references "
                                            "undefined resource %s" % name)
                    attrs = self.types[self.resources[name]["Type"]].getatt
                    if item[2] not in attrs:
                        raise TemplateError("Template error: resource %s does not support "
                                            "attribute type %s in Fn::GetAtt" % (name, item[2]))
                need.add(name)
            depends = res.get("DependsOn") or []
            for name in [depends] if isinstance(depends, str) else depends:
                if name not in self.resources:
                    raise TemplateError("Template format error: Unresolved resource "
                                        "dependencies [%s] in the Resources block of the "
                                        "template" % name)
                need.add(name)
            deps[lid] = need
        if unresolved:
            raise TemplateError("Template format error: Unresolved resource dependencies [%s] "
                                "in the Resources block of the template"
                                % ", ".join(sorted(set(unresolved))))
        found = []
        _refs(self.outputs, found)
        for item in found:
            if item[0] == "ref" and item[1] not in self.parameters and item[1] not in PSEUDO \
                    and item[1] not in self.resources:
                raise TemplateError("Template format error: Unresolved resource dependencies "
                                    "[%s] in the Outputs block of the template" % item[1])
        return deps

    def _topological_order(self):
        """Resources in creation order: each after what it needs, otherwise as written."""
        order, done, visiting = [], set(), []

        def visit(lid):
            if lid in done:
                return
            if lid in visiting:
                cycle = visiting[visiting.index(lid):]
                raise TemplateError("Circular dependency between resources: [%s]"
                                    % ", ".join(sorted(cycle)))
            visiting.append(lid)
            for dep in sorted(self.deps[lid]):
                visit(dep)
            visiting.pop()
            done.add(lid)
            order.append(lid)

        for lid in self.resources:
            visit(lid)
        return order

    # ------------------------------------------------------------------ parameters
    def parameter_declarations(self):
        """ValidateTemplate's Parameters."""
        out = []
        for name, spec in self.parameters.items():
            p = {"ParameterKey": name, "NoEcho": str(spec.get("NoEcho", "false")).lower() == "true"}
            if "Default" in spec:
                p["DefaultValue"] = str(spec["Default"])
            if "Description" in spec:
                p["Description"] = spec["Description"]
            out.append(p)
        return out

    def bind_parameters(self, given, previous=None):
        """{name: value} from the request's [{ParameterKey, ParameterValue | UsePreviousValue}]
        and the defaults, checked against each declaration."""
        values = {}
        extra = []
        for p in given or []:
            key = p.get("ParameterKey")
            if key not in self.parameters:
                extra.append(key)
                continue
            if p.get("UsePreviousValue"):
                if previous is None or key not in previous:
                    raise TemplateError("Invalid input for parameter key %s. Cannot specify "
                                        "usePreviousValue as true for a parameter key not in "
                                        "the previous template" % key)
                values[key] = previous[key]
            else:
                values[key] = p.get("ParameterValue", "")
        if extra:
            raise TemplateError("Parameters: [%s] do not exist in the template"
                                % ", ".join(sorted(str(e) for e in extra)))
        missing = []
        for name, spec in self.parameters.items():
            if name not in values:
                if "Default" not in spec:
                    missing.append(name)
                    continue
                values[name] = str(spec["Default"])
            self._check_value(name, spec, values[name])
        if missing:
            raise TemplateError("Parameters: [%s] must have values" % ", ".join(missing))
        return values

    @staticmethod
    def _check_value(name, spec, value):
        items = [v.strip() for v in value.split(",")] if spec["Type"] == "CommaDelimitedList" \
            else [value]
        for item in items:
            if spec["Type"] == "Number":
                try:
                    num = float(item)
                except ValueError:
                    raise TemplateError("Parameter '%s' must be a number." % name)
                if "MinValue" in spec and num < float(spec["MinValue"]):
                    raise TemplateError("Parameter '%s' must be a number not less than %s"
                                        % (name, spec["MinValue"]))
                if "MaxValue" in spec and num > float(spec["MaxValue"]):
                    raise TemplateError("Parameter '%s' must be a number not greater than %s"
                                        % (name, spec["MaxValue"]))
            allowed = spec.get("AllowedValues")
            if allowed is not None and item not in [str(a) for a in allowed]:
                raise TemplateError("Parameter '%s' must be one of AllowedValues" % name)
            pattern = spec.get("AllowedPattern")
            if pattern is not None and not re.fullmatch(pattern, item):
                raise TemplateError("Parameter '%s' must match pattern %s" % (name, pattern))
            if "MinLength" in spec and len(item) < int(spec["MinLength"]):
                raise TemplateError("Parameter '%s' must contain at least %s characters"
                                    % (name, spec["MinLength"]))
            if "MaxLength" in spec and len(item) > int(spec["MaxLength"]):
                raise TemplateError("Parameter '%s' must contain at most %s characters"
                                    % (name, spec["MaxLength"]))

    def no_echo(self, name):
        return str(self.parameters[name].get("NoEcho", "false")).lower() == "true"


class Resolver:
    """Evaluates conditions and intrinsics for one stack: parameter values, pseudo parameters
    and what the resources made so far returned ({lid: {"ref": ..., "attrs": {...}}})."""

    def __init__(self, template, parameters, pseudo):
        self.t = template
        self.parameters = parameters
        self.pseudo = pseudo
        self.made = {}
        self._conditions = {}

    # ------------------------------------------------------------------ conditions
    def condition(self, name):
        if name not in self._conditions:
            if name not in self.t.conditions:
                raise TemplateError("Template format error: Unresolved condition dependency %s "
                                    "in Fn::If" % name)
            self._conditions[name] = None  # a cycle reads as false rather than recursing
            self._conditions[name] = bool(self._cond(self.t.conditions[name]))
        return bool(self._conditions[name])

    def _cond(self, expr):
        if not isinstance(expr, dict) or len(expr) != 1:
            raise TemplateError("Template format error: Conditions can only be boolean "
                                "operations on parameters and other conditions")
        (fn, arg), = expr.items()
        if fn == "Condition":
            return self.condition(arg)
        if fn == "Fn::Equals":
            a, b = (self.value(v) for v in arg)
            return str(a) == str(b)
        if fn == "Fn::Not":
            return not self._cond(arg[0])
        if fn == "Fn::And":
            return all(self._cond(a) for a in arg)
        if fn == "Fn::Or":
            return any(self._cond(a) for a in arg)
        raise TemplateError("Template error: %s is not a condition function" % fn)

    def included(self, lid):
        cond = self.t.resources[lid].get("Condition")
        return cond is None or self.condition(cond)

    # ------------------------------------------------------------------ intrinsics
    def value(self, v):
        """v with every intrinsic function evaluated; NO_VALUE members are dropped."""
        if isinstance(v, list):
            return [x for x in (self.value(i) for i in v) if x is not NO_VALUE]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (key, arg), = v.items()
            fn = getattr(self, "_fn_" + key.replace("::", "_"), None) if \
                (key == "Ref" or key.startswith("Fn::")) else None
            if fn is not None:
                return fn(arg)
            if key.startswith("Fn::"):
                raise TemplateError("Template format error: Unsupported function %s (not "
                                    "emulated)" % key)
        out = {}
        for k, x in v.items():
            x = self.value(x)
            if x is not NO_VALUE:
                out[k] = x
        return out

    def _fn_Ref(self, name):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.parameters:
            spec = self.t.parameters[name]
            if spec["Type"] == "CommaDelimitedList":
                return [s.strip() for s in self.parameters[name].split(",")]
            return self.parameters[name]
        if name in self.made:
            return self.made[name]["ref"]
        raise TemplateError("Template format error: Unresolved resource dependencies [%s] in "
                            "the Resources block of the template" % name)

    def _fn_Fn_GetAtt(self, arg):
        lid, attr = _getatt_parts(self.value(arg) if isinstance(arg, dict) else arg)
        made = self.made.get(lid)
        if made is None or attr not in made["attrs"]:
            raise TemplateError("Template error: resource %s does not support attribute type "
                                "%s in Fn::GetAtt" % (lid, attr))
        return made["attrs"][attr]

    def _fn_Fn_Sub(self, arg):
        if isinstance(arg, str):
            text, variables = arg, {}
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
            text, variables = arg[0], {k: self.value(x) for k, x in arg[1].items()}
        else:
            _sub_names(None)

        def repl(m):
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                value = variables[name]
            elif "." in name and name.split(".", 1)[0] in self.t.resources:
                value = self._fn_Fn_GetAtt(name.split(".", 1))
            else:
                value = self._fn_Ref(name)
            if isinstance(value, list):
                raise TemplateError("Template error: variable %s in Fn::Sub expression does "
                                    "not resolve to a string" % name)
            return str(value)

        _sub_names(text)  # checks that text is a string
        return _SUB_VAR.sub(repl, text)

    def _fn_Fn_Join(self, arg):
        if not isinstance(arg, list) or len(arg) != 2:
            raise TemplateError("Template error: every Fn::Join object requires two parameters, "
                                "(1) a string delimiter and (2) a list of strings to be joined "
                                "or a function that returns a list of strings")
        items = self.value(arg[1])
        if not isinstance(items, list):
            raise TemplateError("Template error: Fn::Join's second parameter must be a list")
        return str(arg[0]).join(str(i) for i in items)

    def _fn_Fn_If(self, arg):
        if not isinstance(arg, list) or len(arg) != 3:
            raise TemplateError("Template error: Fn::If requires a list argument with three "
                                "elements")
        return self.value(arg[1] if self.condition(arg[0]) else arg[2])

    def _fn_Fn_Select(self, arg):
        index, items = self.value(arg[0]), self.value(arg[1])
        try:
            return items[int(index)]
        except (ValueError, IndexError, TypeError):
            raise TemplateError("Template error: Fn::Select cannot select nonexistent value at "
                                "index %s" % index)

    def _fn_Fn_Split(self, arg):
        sep, text = arg[0], self.value(arg[1])
        return str(text).split(sep)

    def _fn_Fn_Base64(self, arg):
        return base64.b64encode(str(self.value(arg)).encode()).decode()

    def _fn_Fn_Equals(self, arg):
        return self._cond({"Fn::Equals": arg})

    # ------------------------------------------------------------------ outputs
    def outputs(self):
        out = []
        for name, spec in self.t.outputs.items():
            if spec.get("Condition") and not self.condition(spec["Condition"]):
                continue
            o = {"OutputKey": name, "OutputValue": str(self.value(spec.get("Value")))}
            if spec.get("Description"):
                o["Description"] = spec["Description"]
            export = spec.get("Export")
            if isinstance(export, dict) and "Name" in export:
                o["ExportName"] = str(self.value(export["Name"]))
            out.append(o)
        return out
